//! The errors of the pipe's two halves, one enum per half.

use std::{error, fmt, io};

/// Why [`Producer::io_slices`](super::Producer::io_slices) or
/// [`Producer::slices`](super::Producer::slices) filled nothing.
///
/// As an [`io::Error`]: `Full` is [`WouldBlock`](io::ErrorKind::WouldBlock), `Closed` is
/// [`BrokenPipe`](io::ErrorKind::BrokenPipe), `InvalidCount` is
/// [`InvalidData`](io::ErrorKind::InvalidData), and `Callback(e)` is `e`.
///
/// # Examples
///
/// ```
/// use std::io;
/// use picoring::pipe::{self, ProducerError};
///
/// let (mut producer, consumer) = pipe::new(4096, 1).unwrap();
/// let err = producer.slices(|_, len| Ok::<_, ()>(len + 1)).unwrap_err();
/// assert!(matches!(err, ProducerError::InvalidCount { .. }));
///
/// drop(consumer);
/// let err = producer.io_slices(|_, len| Ok(len)).unwrap_err();
/// assert!(matches!(err, ProducerError::Closed));
/// assert_eq!(io::Error::from(err).kind(), io::ErrorKind::BrokenPipe);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProducerError<E> {
    /// No byte is free: the consumer has not read enough yet. Only a non-blocking producer
    /// reports it.
    Full,
    /// Nothing written will ever be read: the consumer is gone, or the producer was closed.
    Closed,
    /// The callback reported `n` bytes filled, but it was offered only `len`. Nothing was
    /// published.
    InvalidCount {
        /// The count the callback returned.
        n: usize,
        /// The number of bytes it was offered.
        len: usize,
    },
    /// The callback failed; nothing was published.
    Callback(E),
}

/// Why [`Consumer::io_slices`](super::Consumer::io_slices) or
/// [`Consumer::slices`](super::Consumer::slices) drained nothing.
///
/// The end of the stream is not an error: it is `Ok(0)`.
///
/// As an [`io::Error`]: `Empty` is [`WouldBlock`](io::ErrorKind::WouldBlock),
/// `InvalidCount` is [`InvalidData`](io::ErrorKind::InvalidData), and `Callback(e)` is `e`.
///
/// # Examples
///
/// ```
/// use std::io;
/// use picoring::pipe::{self, ConsumerError};
///
/// let (producer, mut consumer) = pipe::new(4096, 1).unwrap();
/// let err = consumer.io_slices(|_, len| Ok(len)).unwrap_err();
/// assert!(matches!(err, ConsumerError::Empty));
/// assert_eq!(io::Error::from(err).kind(), io::ErrorKind::WouldBlock);
///
/// drop(producer);
/// assert_eq!(consumer.io_slices(|_, len| Ok(len)).unwrap(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerError<E> {
    /// No byte is readable, but the producer may still write some. Only a non-blocking
    /// consumer reports it.
    Empty,
    /// The callback reported `n` bytes drained, but it was offered only `len`. Nothing was
    /// consumed.
    InvalidCount {
        /// The count the callback returned.
        n: usize,
        /// The number of bytes it was offered.
        len: usize,
    },
    /// The callback failed; nothing was consumed.
    Callback(E),
}

impl<E: fmt::Display> fmt::Display for ProducerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProducerError::Full => f.write_str("pipe is full"),
            ProducerError::Closed => f.write_str("pipe is closed"),
            ProducerError::InvalidCount { n, len } => {
                write!(f, "callback filled {n} bytes of the {len} it was offered")
            }
            ProducerError::Callback(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Display> fmt::Display for ConsumerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerError::Empty => f.write_str("pipe is empty"),
            ConsumerError::InvalidCount { n, len } => {
                write!(f, "callback drained {n} bytes of the {len} it was offered")
            }
            ConsumerError::Callback(e) => e.fmt(f),
        }
    }
}

/// The callback's error is shown as it is (its `Display` and its `source`).
impl<E: error::Error> error::Error for ProducerError<E> {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            ProducerError::Callback(e) => e.source(),
            _ => None,
        }
    }
}

/// The callback's error is shown as it is (its `Display` and its `source`).
impl<E: error::Error> error::Error for ConsumerError<E> {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            ConsumerError::Callback(e) => e.source(),
            _ => None,
        }
    }
}

impl From<ProducerError<io::Error>> for io::Error {
    fn from(err: ProducerError<io::Error>) -> io::Error {
        match err {
            ProducerError::Full => io::ErrorKind::WouldBlock.into(),
            ProducerError::Closed => io::ErrorKind::BrokenPipe.into(),
            ProducerError::InvalidCount { .. } => {
                io::Error::new(io::ErrorKind::InvalidData, err.to_string())
            }
            ProducerError::Callback(e) => e,
        }
    }
}

impl From<ConsumerError<io::Error>> for io::Error {
    fn from(err: ConsumerError<io::Error>) -> io::Error {
        match err {
            ConsumerError::Empty => io::ErrorKind::WouldBlock.into(),
            ConsumerError::InvalidCount { .. } => {
                io::Error::new(io::ErrorKind::InvalidData, err.to_string())
            }
            ConsumerError::Callback(e) => e,
        }
    }
}
