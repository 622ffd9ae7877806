//! Errors of the waiting operations shared by the concurrent structures.

use std::{error, fmt};

/// Why a timed push gave its value back.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use picoring::{PicoSPSC, PushTimeoutError};
///
/// let (mut producer, _consumer) = PicoSPSC::<u8>::new(1).unwrap().split();
/// while producer.push(0).is_ok() {}
/// let err = producer.push_timeout(7, Duration::from_millis(1)).unwrap_err();
/// assert_eq!(err, PushTimeoutError::Timeout(7));
/// assert_eq!(err.into_inner(), 7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushTimeoutError<T> {
    /// The queue stayed full until the deadline.
    Timeout(T),
    /// Every consumer is gone: nobody would ever read the value.
    Disconnected(T),
}

impl<T> PushTimeoutError<T> {
    /// The error of a push whose wait ended as `why` says, holding `value`.
    pub(crate) fn holding(why: PopTimeoutError, value: T) -> Self {
        match why {
            PopTimeoutError::Timeout => PushTimeoutError::Timeout(value),
            PopTimeoutError::Disconnected => PushTimeoutError::Disconnected(value),
        }
    }

    /// The value that was not pushed.
    pub fn into_inner(self) -> T {
        match self {
            PushTimeoutError::Timeout(v) | PushTimeoutError::Disconnected(v) => v,
        }
    }
}

impl<T> fmt::Debug for PushTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            PushTimeoutError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for PushTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushTimeoutError::Timeout(_) => f.write_str("timed out waiting for a free slot"),
            PushTimeoutError::Disconnected(_) => f.write_str("pushing to a queue with no consumer"),
        }
    }
}

impl<T> error::Error for PushTimeoutError<T> {}

/// Why a timed pop returned no value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use picoring::{PicoSPSC, PopTimeoutError};
///
/// let (producer, mut consumer) = PicoSPSC::<u8>::new(16).unwrap().split();
/// let timeout = Duration::from_millis(1);
/// assert_eq!(consumer.pop_timeout(timeout), Err(PopTimeoutError::Timeout));
/// drop(producer);
/// assert_eq!(consumer.pop_timeout(timeout), Err(PopTimeoutError::Disconnected));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopTimeoutError {
    /// The queue stayed empty until the deadline.
    Timeout,
    /// The queue is empty and every producer is gone: no value will ever arrive.
    Disconnected,
}

impl PopTimeoutError {
    /// What the answer of a wait (see `sync::Event::wait`) means: `Some(true)`, ready;
    /// `Some(false)`, the peer is gone; `None`, the deadline passed.
    pub(crate) fn from_wait(answer: Option<bool>) -> Result<(), PopTimeoutError> {
        match answer {
            Some(true) => Ok(()),
            Some(false) => Err(PopTimeoutError::Disconnected),
            None => Err(PopTimeoutError::Timeout),
        }
    }
}

impl fmt::Display for PopTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PopTimeoutError::Timeout => f.write_str("timed out waiting for an item"),
            PopTimeoutError::Disconnected => {
                f.write_str("popping from an empty queue with no producer")
            }
        }
    }
}

impl error::Error for PopTimeoutError {}
