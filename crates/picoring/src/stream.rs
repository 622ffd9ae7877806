//! [`PicoByteStream`]: a byte buffer that speaks `std::io`.

use std::fmt;
use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Write};

use crate::{Error, PicoQueue};

/// A fixed-capacity byte FIFO with `std::io` traits, whose readable bytes are always one
/// slice and whose free space is always one slice.
///
/// Bytes written with [`Write`] (or into [`as_write_slice()`] and then [`produce()`]d) are
/// read back, oldest first, with [`Read`] and [`BufRead`] (or from [`as_read_slice()`] and
/// then [`consume()`]d). Both slices are contiguous even where the bytes wrap around the
/// physical end of the buffer, so a parser or a system call sees one buffer.
///
/// # I/O semantics
///
/// The stream follows std's in-memory buffers; it never blocks and never returns
/// [`io::ErrorKind::WouldBlock`]:
///
/// * [`read`](Read::read) on an empty stream returns `Ok(0)`, as `VecDeque<u8>` does, so
///   `read_to_end` stops when the stream is drained and `read_exact` fails with
///   [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) when too few bytes are buffered;
/// * [`write`](Write::write) on a full stream returns `Ok(0)`, as `&mut [u8]` does, so
///   `write_all` fails with [`WriteZero`](io::ErrorKind::WriteZero) when the bytes do not
///   fit; a write stores as many bytes as fit;
/// * [`fill_buf`](BufRead::fill_buf) returns every readable byte as one slice, and an empty
///   slice when there are none (which `BufRead::lines` reads as the end);
/// * [`flush`](Write::flush) does nothing.
///
/// With the `bytes` feature the stream is also a [`bytes::Buf`] (whose `chunk()` is every
/// readable byte) and a [`bytes::BufMut`] (whose `chunk_mut()` is every free byte).
///
/// [`as_write_slice()`]: PicoByteStream::as_write_slice
/// [`produce()`]: PicoByteStream::produce
/// [`as_read_slice()`]: PicoByteStream::as_read_slice
/// [`consume()`]: PicoByteStream::consume
///
/// # Examples
///
/// ```
/// use picoring::PicoByteStream;
/// use std::io::{Read, Write};
/// let mut stream = PicoByteStream::new(65536).unwrap();
/// // 1. Use standard traits
/// stream.write_all(b"Technical Protocol Data").unwrap();
/// let mut buffer = [0u8; 9];
/// stream.read_exact(&mut buffer).unwrap();
/// // 2. Direct Zero-Copy Access (e.g., for Socket send/recv)
/// let readable = stream.as_read_slice(); // Contiguous slice of all available bytes
/// // socket.send(readable);
/// stream.consume(readable.len());
/// let writable = stream.as_write_slice(); // Direct access to available capacity
/// // socket.recv(writable);
/// let n = writable.len();
/// stream.produce(n);
/// ```
///
/// ```
/// use picoring::PicoByteStream;
/// use std::io::{Read, Write};
///
/// let mut stream = PicoByteStream::new(4096).unwrap();
/// stream.write_all(b"Hello Pico").unwrap();
/// let mut text = String::new();
/// stream.read_to_string(&mut text).unwrap();
/// assert_eq!(text, "Hello Pico");
/// ```
///
/// A slice of the stream cannot outlive a change to it:
///
/// ```compile_fail,E0499
/// let mut stream = picoring::PicoByteStream::new(4096).unwrap();
/// let writable = stream.as_write_slice();
/// stream.produce(writable.len()); // error: `writable` still borrows the stream
/// ```
pub struct PicoByteStream<const N: usize = 0> {
    queue: PicoQueue<u8, N>,
}

impl PicoByteStream {
    /// Creates an empty stream with room for at least `capacity` bytes.
    ///
    /// The capacity is rounded up to a multiple of the mapping
    /// [`granularity()`](crate::granularity); [`capacity()`](PicoByteStream::capacity)
    /// reports the result.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroCapacity`] for 0, [`Error::CapacityOverflow`] when the rounded size does
    /// not fit the address space, and [`Error::Map`] when the OS refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoByteStream;
    ///
    /// let stream = PicoByteStream::new(1000).unwrap();
    /// assert_eq!(stream.capacity(), picoring::granularity());
    /// ```
    pub fn new(capacity: usize) -> Result<Self, Error> {
        Ok(PicoByteStream {
            queue: PicoQueue::new(capacity)?,
        })
    }
}

impl<const N: usize> PicoByteStream<N> {
    /// Creates an empty stream with room for at least `N` bytes.
    ///
    /// `N` must not be 0: use [`PicoByteStream::new()`] for a capacity chosen at run time.
    ///
    /// # Errors
    ///
    /// As [`PicoByteStream::new()`].
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoByteStream;
    ///
    /// let stream = PicoByteStream::<65536>::new_static().unwrap();
    /// assert!(stream.capacity() >= 65536);
    /// ```
    pub fn new_static() -> Result<Self, Error> {
        Ok(PicoByteStream {
            queue: PicoQueue::new_static()?,
        })
    }

    /// The number of bytes the stream can hold.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// The number of readable bytes.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no byte is readable.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Whether no byte can be written.
    pub fn is_full(&self) -> bool {
        self.queue.is_full()
    }

    /// The number of readable bytes: the length of [`as_read_slice()`](Self::as_read_slice).
    pub fn available_to_read(&self) -> usize {
        self.len()
    }

    /// The number of free bytes: the length of [`as_write_slice()`](Self::as_write_slice).
    pub fn available_to_write(&self) -> usize {
        self.queue.vacant_len()
    }

    /// Every readable byte, oldest first, as one slice.
    pub fn as_read_slice(&self) -> &[u8] {
        self.queue.peek()
    }

    /// Marks the `n` oldest bytes as read.
    ///
    /// # Panics
    ///
    /// If `n > self.available_to_read()`; the stream is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoByteStream;
    /// use std::io::Write;
    ///
    /// let mut stream = PicoByteStream::new(4096).unwrap();
    /// stream.write_all(b"key=value").unwrap();
    /// let eq = stream.as_read_slice().iter().position(|&b| b == b'=').unwrap();
    /// stream.consume(eq + 1);
    /// assert_eq!(stream.as_read_slice(), b"value");
    /// ```
    #[track_caller]
    pub fn consume(&mut self, n: usize) {
        let readable = self.len();
        if n > readable {
            count_out_of_bounds("consume", n, readable, "readable");
        }
        self.queue.release(n);
    }

    /// Every free byte, as one slice, to be written in place and then published with
    /// [`produce()`](Self::produce).
    ///
    /// The bytes hold stale data (zeros, or bytes consumed earlier). The first call zeroes
    /// the free space once.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoByteStream;
    ///
    /// let mut stream = PicoByteStream::new(4096).unwrap();
    /// let writable = stream.as_write_slice();
    /// writable[..5].copy_from_slice(b"hello");
    /// stream.produce(5);
    /// assert_eq!(stream.as_read_slice(), b"hello");
    /// ```
    pub fn as_write_slice(&mut self) -> &mut [u8] {
        let free = self.queue.vacant_len();
        match self.queue.reserve(free) {
            Some(slice) => slice,
            None => &mut [],
        }
    }

    /// Publishes the first `n` free bytes (those of [`as_write_slice()`](Self::as_write_slice))
    /// as readable.
    ///
    /// # Panics
    ///
    /// If `n > self.available_to_write()`; the stream is left unchanged.
    ///
    /// ```should_panic
    /// let mut stream = picoring::PicoByteStream::<4096>::new_static().unwrap();
    /// stream.produce(4097);
    /// ```
    #[track_caller]
    pub fn produce(&mut self, n: usize) {
        let writable = self.available_to_write();
        if n > writable {
            count_out_of_bounds("produce", n, writable, "writable");
        }
        // Reserving the `n` bytes again makes sure they hold initialised bytes, even when
        // `as_write_slice` was not called first.
        if self.queue.reserve(n).is_some() {
            self.queue.commit(n);
        }
    }
}

impl<const N: usize> Read for PicoByteStream<N> {
    /// Copies as many bytes as fit into `buf`; `Ok(0)` when the stream is empty.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let src = self.as_read_slice();
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        self.consume(n);
        Ok(n)
    }

    /// Fills the buffers in order with as many bytes as there are.
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let mut src = self.as_read_slice();
        let mut n = 0;
        for buf in bufs {
            let k = src.len().min(buf.len());
            buf[..k].copy_from_slice(&src[..k]);
            src = &src[k..];
            n += k;
            if src.is_empty() {
                break;
            }
        }
        self.consume(n);
        Ok(n)
    }

    /// Fills `buf` whole, or fails with [`io::ErrorKind::UnexpectedEof`] and reads nothing
    /// if fewer bytes are readable.
    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self.as_read_slice().get(..buf.len()) {
            Some(src) => {
                buf.copy_from_slice(src);
                self.queue.release(buf.len());
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "fewer bytes readable than the buffer holds",
            )),
        }
    }
}

impl<const N: usize> BufRead for PicoByteStream<N> {
    /// Every readable byte, as one slice even across the physical end.
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        Ok(self.as_read_slice())
    }

    /// As [`PicoByteStream::consume()`], which panics if `amt` bytes are not readable.
    fn consume(&mut self, amt: usize) {
        PicoByteStream::consume(self, amt);
    }
}

impl<const N: usize> Write for PicoByteStream<N> {
    /// Copies as many bytes of `buf` as fit; `Ok(0)` when the stream is full.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.queue.push_slice(buf))
    }

    /// Copies all of `buf`, or fails with [`io::ErrorKind::WriteZero`] and writes nothing
    /// if it does not fit.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.len() > self.queue.vacant_len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "more bytes than the stream has room for",
            ));
        }
        self.queue.push_slice(buf);
        Ok(())
    }

    /// Copies the buffers in order, as many bytes as fit.
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut n = 0;
        for buf in bufs {
            let k = self.queue.push_slice(buf);
            n += k;
            if k < buf.len() {
                break;
            }
        }
        Ok(n)
    }

    /// Does nothing: written bytes are readable at once.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for PicoByteStream<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PicoByteStream")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// The readable bytes are the buffer: `chunk()` is all of them.
///
/// # Examples
///
/// ```
/// use bytes::Buf;
/// use picoring::PicoByteStream;
/// use std::io::Write;
///
/// let mut stream = PicoByteStream::new(4096).unwrap();
/// stream.write_all(&[0, 0, 1, 2, 9]).unwrap();
/// assert_eq!(stream.get_u32(), 0x0102);
/// assert_eq!(stream.chunk(), &[9]);
/// ```
#[cfg(feature = "bytes")]
impl<const N: usize> bytes::Buf for PicoByteStream<N> {
    fn remaining(&self) -> usize {
        self.len()
    }

    fn chunk(&self) -> &[u8] {
        self.as_read_slice()
    }

    /// # Panics
    ///
    /// If `cnt > self.remaining()`.
    #[track_caller]
    fn advance(&mut self, cnt: usize) {
        self.consume(cnt);
    }
}

/// The free bytes are the buffer: `chunk_mut()` is all of them.
///
/// # Examples
///
/// ```
/// use bytes::BufMut;
/// use picoring::PicoByteStream;
///
/// let mut stream = PicoByteStream::new(4096).unwrap();
/// stream.put_u16(0xabcd);
/// stream.put_slice(b"xyz");
/// assert_eq!(stream.as_read_slice(), b"\xab\xcdxyz");
/// ```
#[cfg(feature = "bytes")]
// SAFETY: `chunk_mut` returns free bytes only, which `advance_mut` (through `produce`, which
// checks the count) publishes in order; `remaining_mut` is the length of `chunk_mut`.
unsafe impl<const N: usize> bytes::BufMut for PicoByteStream<N> {
    fn remaining_mut(&self) -> usize {
        self.available_to_write()
    }

    /// # Panics
    ///
    /// If `cnt > self.remaining_mut()`.
    #[track_caller]
    unsafe fn advance_mut(&mut self, cnt: usize) {
        // The free bytes are always initialised, so this is safe whatever was written.
        self.produce(cnt);
    }

    fn chunk_mut(&mut self) -> &mut bytes::buf::UninitSlice {
        bytes::buf::UninitSlice::new(self.as_write_slice())
    }
}

#[cold]
#[track_caller]
fn count_out_of_bounds(what: &str, n: usize, available: usize, state: &str) -> ! {
    panic!("cannot {what} {n} bytes: {available} are {state}")
}
