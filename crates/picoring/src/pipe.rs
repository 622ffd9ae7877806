//! A byte pipe for vectored and async I/O: [`Buffer`], split into a [`Producer`] that fills
//! it from an input and a [`Consumer`] that drains it to an output.
//!
//! It is the `bytering` API on a mirrored ring: where `bytering` offers the free or filled
//! space as two slices, split at the physical end, every callback here gets **one** slice
//! covering all of it, so one `readv`/`writev` (or a plain `read`/`write`) moves everything
//! that fits.
//!
//! Unlike `bytering`, nothing that is not the end of the stream looks like it:
//!
//! - a callback is never called with nothing to offer: a full producer reports
//!   [`ProducerError::Full`] and an empty consumer [`ConsumerError::Empty`], both
//!   [`WouldBlock`](io::ErrorKind::WouldBlock) as an [`io::Error`];
//! - the end of the stream is explicit: [`Producer::close()`], or dropping the producer.
//!   The consumer returns `Ok(0)` only once the producer is closed **and** every byte was
//!   read;
//! - writing after the consumer is gone is [`ProducerError::Closed`],
//!   [`BrokenPipe`](io::ErrorKind::BrokenPipe) as an [`io::Error`].
//!
//! The halves are non-blocking by default; [`Producer::set_blocking`] and
//! [`Consumer::set_blocking`] make them wait instead of reporting `Full` or `Empty`. With the
//! `tokio` feature they implement tokio's `AsyncWrite` and `AsyncRead` + `AsyncBufRead`,
//! with the `futures-io` feature the `futures` traits of the same names.
//!
//! # Examples
//!
//! The `bytering` snippet, with the halves bound `mut`:
//!
//! ```
//! use std::io::{self, Read, Write};
//!
//! fn relay(input: &mut impl Read, output: &mut impl Write) -> io::Result<()> {
//!     let buffer = picoring::pipe::Buffer::new(4096, 4096)?;
//!     let (mut reader, mut writer) = buffer.into_parts();
//!
//!     reader.io_slices(|bufs, _len| input.read_vectored(bufs))?;
//!     writer.io_slices(|bufs, _| output.write_vectored(bufs))?;
//!     Ok(())
//! }
//!
//! let mut output = Vec::new();
//! relay(&mut &b"hello, pipe"[..], &mut output).unwrap();
//! assert_eq!(output, b"hello, pipe");
//! ```
//!
//! Two threads, with `std::io`'s traits and the blocking mode:
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
//! producer.set_blocking(true);
//! consumer.set_blocking(true);
//!
//! let writer = std::thread::spawn(move || {
//!     for i in 0..1000u32 {
//!         producer.write_all(&i.to_le_bytes()).unwrap();
//!     }
//!     // Dropping the producer ends the stream.
//! });
//! let mut all = Vec::new();
//! consumer.read_to_end(&mut all).unwrap();
//! writer.join().unwrap();
//! assert_eq!(all.len(), 4000);
//! ```

use std::fmt;
use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Write};

use crate::Error;
use crate::mirror::granularity;
use crate::spsc::{self, PicoSPSC};
use crate::sync::Key;

mod error;
#[cfg(feature = "futures-io")]
mod futures;
#[cfg(any(feature = "tokio", feature = "futures-io"))]
mod poll;
#[cfg(feature = "tokio")]
mod tokio;

pub use error::{ConsumerError, ProducerError};

/// A byte ring on mirrored memory, to be split into a [`Producer`] and a [`Consumer`].
///
/// # Examples
///
/// ```
/// let buffer = picoring::pipe::Buffer::new(1000, 64).unwrap();
/// assert_eq!(buffer.capacity() % picoring::granularity(), 0);
/// let (mut producer, consumer) = buffer.into_parts();
/// assert_eq!(producer.capacity(), consumer.capacity());
/// // The ring starts empty, so the free bytes start where the ring does.
/// assert_eq!(producer.write_slice().as_ptr() as usize % 64, 0);
/// ```
pub struct Buffer {
    queue: PicoSPSC<u8>,
}

impl Buffer {
    /// Creates a pipe of at least `size` bytes whose memory starts at an `align`-aligned
    /// address.
    ///
    /// `size` is rounded up to a multiple of the mapping [`granularity()`](crate::granularity);
    /// `align` is for I/O that needs aligned buffers (such as `O_DIRECT`, 512 or 4096); every
    /// power of two up to the granularity is possible, since mappings start on one.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroCapacity`] for a `size` of 0, [`Error::AlignmentNotPowerOfTwo`] and
    /// [`Error::AlignmentTooLarge`] for an `align` that is not a power of two or exceeds the
    /// granularity, [`Error::CapacityOverflow`] for a `size` no mapping can hold,
    /// [`Error::Map`] when the OS refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::{Error, pipe::Buffer};
    ///
    /// assert!(Buffer::new(4096, 4096).is_ok());
    /// assert!(matches!(Buffer::new(0, 1), Err(Error::ZeroCapacity)));
    /// assert!(matches!(Buffer::new(4096, 3), Err(Error::AlignmentNotPowerOfTwo { align: 3 })));
    /// assert!(matches!(Buffer::new(usize::MAX, 1), Err(Error::CapacityOverflow)));
    /// ```
    pub fn new(size: usize, align: usize) -> Result<Buffer, Error> {
        if !align.is_power_of_two() {
            return Err(Error::AlignmentNotPowerOfTwo { align });
        }
        let granularity = granularity();
        if align > granularity {
            return Err(Error::AlignmentTooLarge { align, granularity });
        }
        // Mappings start on the granularity, so every `align` up to it holds.
        Ok(Buffer {
            queue: PicoSPSC::new(size)?,
        })
    }

    /// The number of bytes the pipe holds when full.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// Splits the pipe into the half that fills it and the half that drains it.
    ///
    /// The [`Producer`] comes first: it fills the ring, typically by reading from an input
    /// (`bytering` called it the reader). The [`Consumer`] drains it, typically by writing to
    /// an output.
    pub fn into_parts(self) -> (Producer, Consumer) {
        let (producer, consumer) = self.queue.split();
        (
            Producer {
                inner: producer,
                closed: false,
                blocking: false,
                key: None,
            },
            Consumer {
                inner: consumer,
                blocking: false,
                key: None,
            },
        )
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Creates a pipe of at least `size` bytes, aligned to `align`, and splits it: `bytering`'s
/// `new`.
///
/// # Errors
///
/// As [`Buffer::new`].
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
///
/// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
/// producer.write_all(b"abc").unwrap();
/// let mut buf = [0; 8];
/// assert_eq!(consumer.read(&mut buf).unwrap(), 3);
/// ```
pub fn new(size: usize, align: usize) -> Result<(Producer, Consumer), Error> {
    Ok(Buffer::new(size, align)?.into_parts())
}

/// The half of a pipe that fills it: it implements [`io::Write`], and its
/// [`io_slices`](Producer::io_slices) lends every free byte to a read from an input.
///
/// It is [`Send`], but neither `Sync` nor `Clone`. Dropping it ends the stream, as
/// [`close()`](Producer::close) does.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>(_: &T) {}
/// let (producer, _consumer) = picoring::pipe::new(4096, 1).unwrap();
/// shared_between_threads(&producer); // error: `Producer` is not `Sync`
/// ```
pub struct Producer {
    inner: spsc::Producer<u8>,
    /// Set by `close`: writing is refused from then on.
    closed: bool,
    /// Wait for room instead of reporting `Full`.
    blocking: bool,
    /// The task's registration while an async write waits for room.
    key: Option<Key>,
}

impl Producer {
    /// The number of bytes the pipe holds when full.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The number of free bytes, counted from the consumer's latest progress.
    ///
    /// The consumer may free more at any time, so this is a lower bound.
    pub fn free(&self) -> usize {
        self.inner.free_len()
    }

    /// The number of bytes written and not yet read, as of the consumer's latest progress
    /// (an upper bound).
    pub fn len(&self) -> usize {
        self.capacity() - self.free()
    }

    /// Whether no byte is waiting to be read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every byte is taken; the consumer may free some at any time.
    pub fn is_full(&self) -> bool {
        self.free() == 0
    }

    /// Whether writing is over: the producer was [closed](Producer::close), or the consumer
    /// is gone.
    pub fn is_closed(&self) -> bool {
        self.closed || self.inner.is_abandoned()
    }

    /// Ends the stream: the consumer reads what was written, then sees `Ok(0)`. Writing
    /// afterwards is refused. Dropping the producer does the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// producer.write_all(b"last words").unwrap();
    /// producer.close();
    /// assert!(producer.write(b"!").is_err());
    ///
    /// let mut all = String::new();
    /// consumer.read_to_string(&mut all).unwrap();
    /// assert_eq!(all, "last words");
    /// ```
    pub fn close(&mut self) {
        self.closed = true;
        self.inner.close();
    }

    /// Makes writes wait for room (`true`) or report that the pipe is full (`false`, the
    /// default).
    ///
    /// A blocking producer never returns [`ProducerError::Full`] nor
    /// [`WouldBlock`](io::ErrorKind::WouldBlock): [`io_slices`](Producer::io_slices),
    /// [`slices`](Producer::slices) and [`write`](Write::write) wait until a byte is free or
    /// the consumer is gone. The async traits never block, whatever this says.
    pub fn set_blocking(&mut self, blocking: bool) {
        self.blocking = blocking;
    }

    /// Whether writes wait for room; see [`set_blocking`](Producer::set_blocking).
    pub fn is_blocking(&self) -> bool {
        self.blocking
    }

    /// Lends every free byte, as one slice even across the physical end of the ring, to `f`,
    /// which returns how many of the first bytes it filled; those are published.
    ///
    /// `f` receives the slice inside a one-element slice of `IoSliceMut`, ready for
    /// [`Read::read_vectored`], and its length. It is called only if a byte is free.
    ///
    /// # Errors
    ///
    /// [`ProducerError::Full`] if no byte is free (a non-blocking producer; `f` is not
    /// called), [`ProducerError::Closed`] if the consumer is gone or the producer closed,
    /// [`ProducerError::InvalidCount`] if `f` returns more than it was offered, and
    /// [`ProducerError::Callback`] with `f`'s error. Nothing is published on an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// let (mut producer, consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// let mut input = &b"from a file"[..];
    /// let n = producer.io_slices(|bufs, len| {
    ///     assert_eq!(bufs.len(), 1);
    ///     assert_eq!(bufs[0].len(), len);
    ///     input.read_vectored(bufs)
    /// }).unwrap();
    /// assert_eq!(n, 11);
    /// assert_eq!(consumer.read_slice(), b"from a file");
    /// ```
    pub fn io_slices<F>(&mut self, mut f: F) -> Result<usize, ProducerError<io::Error>>
    where
        F: FnMut(&mut [IoSliceMut<'_>], usize) -> io::Result<usize>,
    {
        self.fill(|buf| {
            let len = buf.len();
            f(&mut [IoSliceMut::new(buf)], len)
        })
    }

    /// Lends every free byte, as one slice, to `f`, which returns how many of the first
    /// bytes it filled, or its own error; those bytes are published.
    ///
    /// The form of [`io_slices`](Producer::io_slices) for any source and error type. `f`
    /// receives the slice inside a one-element slice, and its length.
    ///
    /// # Errors
    ///
    /// As [`io_slices`](Producer::io_slices), with `f`'s error in
    /// [`ProducerError::Callback`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// let n = producer.slices(|bufs, _len| {
    ///     bufs[0][..2].copy_from_slice(b"ok");
    ///     Ok::<_, std::convert::Infallible>(2)
    /// });
    /// assert_eq!(n, Ok(2));
    /// assert_eq!(consumer.read_slice(), b"ok");
    /// ```
    pub fn slices<E, F>(&mut self, mut f: F) -> Result<usize, ProducerError<E>>
    where
        F: FnMut(&mut [&mut [u8]], usize) -> Result<usize, E>,
    {
        self.fill(|buf| {
            let len = buf.len();
            f(&mut [buf], len)
        })
    }

    /// Every free byte, as one slice even across the physical end of the ring; empty if the
    /// pipe is full. [`produce`](Producer::produce) publishes a prefix of it.
    ///
    /// The bytes hold unspecified values. This never waits, whatever the blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// let free = producer.write_slice();
    /// free[..5].copy_from_slice(b"hello");
    /// producer.produce(5);
    /// assert_eq!(consumer.read_slice(), b"hello");
    /// ```
    pub fn write_slice(&mut self) -> &mut [u8] {
        self.inner.vacant_bytes(usize::MAX)
    }

    /// Publishes the first `n` bytes of [`write_slice`](Producer::write_slice).
    ///
    /// # Panics
    ///
    /// If `n` is more than [`free()`](Producer::free); nothing is published then.
    #[track_caller]
    pub fn produce(&mut self, n: usize) {
        let free = self.inner.vacant(n);
        if n > free {
            produce_out_of_bounds(n, free);
        }
        self.inner.commit_bytes(n);
    }

    /// Runs `f` on the free bytes once some are, and publishes the count it returns.
    fn fill<E>(
        &mut self,
        f: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<usize, ProducerError<E>> {
        self.room(usize::MAX, self.blocking)?;
        let buf = self.inner.vacant_bytes(usize::MAX);
        let len = buf.len();
        let n = f(buf).map_err(ProducerError::Callback)?;
        if n > len {
            return Err(ProducerError::InvalidCount { n, len });
        }
        self.inner.commit_bytes(n);
        Ok(n)
    }

    /// The number of free bytes (reloading the consumer's progress if fewer than `wanted`),
    /// once it is not zero; waits for that if `wait`.
    fn room<E>(&mut self, wanted: usize, wait: bool) -> Result<usize, ProducerError<E>> {
        if self.is_closed() {
            return Err(ProducerError::Closed);
        }
        let free = self.inner.vacant(wanted);
        if free > 0 {
            return Ok(free);
        }
        if !wait {
            return Err(ProducerError::Full);
        }
        if !self.inner.wait_vacant() {
            return Err(ProducerError::Closed);
        }
        Ok(self.inner.vacant(wanted))
    }

    /// Copies as much of `bufs` as fits and publishes it; the caller has made sure that
    /// something fits.
    fn copy_in(&mut self, bufs: &[IoSlice<'_>]) -> usize {
        let total = bufs.iter().map(|b| b.len()).sum();
        let dst = self.inner.vacant_bytes(total);
        let mut n = 0;
        for buf in bufs {
            let k = buf.len().min(dst.len() - n);
            dst[n..n + k].copy_from_slice(&buf[..k]);
            n += k;
            if n == dst.len() {
                break;
            }
        }
        self.inner.commit_bytes(n);
        n
    }

    /// `write_vectored` with waiting as `wait` says.
    fn write_bufs(&mut self, bufs: &[IoSlice<'_>], wait: bool) -> io::Result<usize> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Ok(0);
        }
        let total = bufs.iter().map(|b| b.len()).sum();
        self.room::<io::Error>(total, wait)?;
        Ok(self.copy_in(bufs))
    }
}

/// Copies into the free bytes; a full pipe is [`WouldBlock`](io::ErrorKind::WouldBlock) (or
/// waits, see [`Producer::set_blocking`]), a closed one [`BrokenPipe`](io::ErrorKind::BrokenPipe).
impl Write for Producer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_bufs(&[IoSlice::new(buf)], self.blocking)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.write_bufs(bufs, self.blocking)
    }

    /// Does nothing: written bytes are readable at once.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.inner.cancel(&mut self.key);
    }
}

impl fmt::Debug for Producer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("free", &self.free())
            .field("is_closed", &self.is_closed())
            .field("is_blocking", &self.blocking)
            .finish()
    }
}

/// The half of a pipe that drains it: it implements [`io::Read`] and [`io::BufRead`], and
/// its [`io_slices`](Consumer::io_slices) lends every readable byte to a write to an output.
///
/// It is [`Send`], but neither `Sync` nor `Clone`. Dropping it makes the producer's writes
/// fail with [`ProducerError::Closed`].
///
/// A slice from [`read_slice`](Consumer::read_slice) borrows the consumer, so its bytes
/// cannot be handed back to the producer while it is alive:
///
/// ```compile_fail
/// use std::io::Write;
/// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
/// producer.write_all(b"abc").unwrap();
/// let bytes = consumer.read_slice();
/// consumer.consume(3); // error: `consumer` is still borrowed by `bytes`
/// assert_eq!(bytes, b"abc");
/// ```
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>(_: &T) {}
/// let (_producer, consumer) = picoring::pipe::new(4096, 1).unwrap();
/// shared_between_threads(&consumer); // error: `Consumer` is not `Sync`
/// ```
pub struct Consumer {
    inner: spsc::Consumer<u8>,
    /// Wait for bytes instead of reporting `Empty`.
    blocking: bool,
    /// The task's registration while an async read waits for bytes.
    key: Option<Key>,
}

impl Consumer {
    /// The number of bytes the pipe holds when full.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// The number of readable bytes, as of the producer's latest publication.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether no byte is readable now.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The number of free bytes, as of the producer's latest publication (an upper bound).
    pub fn free(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Whether the producer has closed the stream (or is gone). Bytes it wrote before may
    /// still be readable: the stream ends when this is true and the pipe is empty.
    pub fn is_closed(&self) -> bool {
        self.inner.is_abandoned()
    }

    /// Makes reads wait for bytes (`true`) or report that the pipe is empty (`false`, the
    /// default).
    ///
    /// A blocking consumer never returns [`ConsumerError::Empty`] nor
    /// [`WouldBlock`](io::ErrorKind::WouldBlock): [`io_slices`](Consumer::io_slices),
    /// [`slices`](Consumer::slices), [`read`](Read::read) and [`fill_buf`](BufRead::fill_buf)
    /// wait until a byte is readable or the stream has ended. The async traits never block,
    /// whatever this says.
    pub fn set_blocking(&mut self, blocking: bool) {
        self.blocking = blocking;
    }

    /// Whether reads wait for bytes; see [`set_blocking`](Consumer::set_blocking).
    pub fn is_blocking(&self) -> bool {
        self.blocking
    }

    /// Lends every readable byte, as one slice even across the physical end of the ring, to
    /// `f`, which returns how many of the first bytes it used; those are consumed.
    ///
    /// `f` receives the slice inside a one-element slice of `IoSlice`, ready for
    /// [`Write::write_vectored`], and its length. It is called only if a byte is readable;
    /// once the producer is closed and every byte was read, this returns `Ok(0)` without
    /// calling `f`.
    ///
    /// # Errors
    ///
    /// [`ConsumerError::Empty`] if no byte is readable but the producer may write more (a
    /// non-blocking consumer; `f` is not called), [`ConsumerError::InvalidCount`] if `f`
    /// returns more than it was offered, and [`ConsumerError::Callback`] with `f`'s error.
    /// Nothing is consumed on an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// producer.write_all(b"to a socket").unwrap();
    /// let mut output = Vec::new();
    /// let n = consumer.io_slices(|bufs, _| output.write_vectored(bufs)).unwrap();
    /// assert_eq!(n, 11);
    /// assert_eq!(output, b"to a socket");
    /// ```
    pub fn io_slices<F>(&mut self, mut f: F) -> Result<usize, ConsumerError<io::Error>>
    where
        F: FnMut(&[IoSlice<'_>], usize) -> io::Result<usize>,
    {
        self.drain(|buf| f(&[IoSlice::new(buf)], buf.len()))
    }

    /// Lends every readable byte, as one slice, to `f`, which returns how many of the first
    /// bytes it used, or its own error; those bytes are consumed.
    ///
    /// The form of [`io_slices`](Consumer::io_slices) for any destination and error type.
    /// `f` receives the slice inside a one-element slice, and its length.
    ///
    /// # Errors
    ///
    /// As [`io_slices`](Consumer::io_slices), with `f`'s error in
    /// [`ConsumerError::Callback`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// producer.write_all(b"line one\nline two").unwrap();
    /// let n = consumer.slices(|bufs, _len| {
    ///     let line_end = bufs[0].iter().position(|&b| b == b'\n').ok_or("no line")?;
    ///     Ok::<_, &str>(line_end + 1)
    /// });
    /// assert_eq!(n, Ok(9));
    /// assert_eq!(consumer.read_slice(), b"line two");
    /// ```
    pub fn slices<E, F>(&mut self, mut f: F) -> Result<usize, ConsumerError<E>>
    where
        F: FnMut(&[&[u8]], usize) -> Result<usize, E>,
    {
        self.drain(|buf| f(&[buf], buf.len()))
    }

    /// Every readable byte, oldest first, as one slice even across the physical end of the
    /// ring; empty if none is readable. [`consume`](Consumer::consume) removes a prefix of it.
    ///
    /// This never waits, whatever the blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
    /// producer.write_all(b"abc").unwrap();
    /// assert_eq!(consumer.read_slice(), b"abc");
    /// consumer.consume(2);
    /// assert_eq!(consumer.read_slice(), b"c");
    /// ```
    pub fn read_slice(&self) -> &[u8] {
        self.inner.readable_slice()
    }

    /// Removes the first `n` bytes of [`read_slice`](Consumer::read_slice), handing their
    /// room back to the producer.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`len()`](Consumer::len); nothing is consumed then.
    #[track_caller]
    pub fn consume(&mut self, n: usize) {
        let len = self.inner.len();
        if n > len {
            consume_out_of_bounds(n, len);
        }
        self.inner.advance_tail(n);
    }

    /// Runs `f` on the readable bytes once some are, and consumes the count it returns;
    /// `Ok(0)` at the end of the stream.
    fn drain<E>(
        &mut self,
        f: impl FnOnce(&[u8]) -> Result<usize, E>,
    ) -> Result<usize, ConsumerError<E>> {
        if self.ready(self.blocking)? == 0 {
            return Ok(0);
        }
        let buf = self.inner.readable_slice();
        let len = buf.len();
        let n = f(buf).map_err(ConsumerError::Callback)?;
        if n > len {
            return Err(ConsumerError::InvalidCount { n, len });
        }
        self.inner.advance_tail(n);
        Ok(n)
    }

    /// The number of readable bytes once it is not zero, or 0 at the end of the stream;
    /// waits for either if `wait`.
    fn ready<E>(&mut self, wait: bool) -> Result<usize, ConsumerError<E>> {
        let len = self.inner.len();
        if len > 0 {
            return Ok(len);
        }
        if self.inner.is_finished() {
            return Ok(0);
        }
        if wait {
            return Ok(self.inner.readable_slice_blocking(1).len());
        }
        // Bytes may have come since the first look; if not, the producer was there then.
        match self.inner.len() {
            0 => Err(ConsumerError::Empty),
            len => Ok(len),
        }
    }

    /// Copies the readable bytes into `bufs`, in order, and consumes them.
    fn copy_out(&mut self, bufs: &mut [IoSliceMut<'_>]) -> usize {
        let src = self.inner.readable_slice();
        let mut n = 0;
        for buf in bufs {
            let k = buf.len().min(src.len() - n);
            buf[..k].copy_from_slice(&src[n..n + k]);
            n += k;
            if n == src.len() {
                break;
            }
        }
        self.inner.advance_tail(n);
        n
    }

    /// `read_vectored` with waiting as `wait` says.
    fn read_bufs(&mut self, bufs: &mut [IoSliceMut<'_>], wait: bool) -> io::Result<usize> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Ok(0);
        }
        match self.ready::<io::Error>(wait)? {
            0 => Ok(0),
            _ => Ok(self.copy_out(bufs)),
        }
    }
}

/// Copies out readable bytes; an empty pipe is [`WouldBlock`](io::ErrorKind::WouldBlock) (or
/// waits, see [`Consumer::set_blocking`]) until the producer is closed, then `Ok(0)`.
impl Read for Consumer {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_bufs(&mut [IoSliceMut::new(buf)], self.blocking)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.read_bufs(bufs, self.blocking)
    }
}

/// [`fill_buf`](BufRead::fill_buf) returns every readable byte as one slice (empty at the end
/// of the stream); it waits or reports [`WouldBlock`](io::ErrorKind::WouldBlock) as
/// [`read`](Read::read) does.
impl BufRead for Consumer {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.ready::<io::Error>(self.blocking)?;
        Ok(self.inner.readable_slice())
    }

    /// As [`Consumer::consume`]: panics if `amt` is more than is readable.
    fn consume(&mut self, amt: usize) {
        Consumer::consume(self, amt);
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.inner.cancel(&mut self.key);
    }
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("is_closed", &self.is_closed())
            .field("is_blocking", &self.blocking)
            .finish()
    }
}

#[cold]
#[track_caller]
fn produce_out_of_bounds(n: usize, free: usize) -> ! {
    panic!("cannot produce {n} bytes: {free} are free")
}

#[cold]
#[track_caller]
fn consume_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot consume {n} bytes: {len} are readable")
}
