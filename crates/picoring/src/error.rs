//! The error type of every fallible constructor.

use std::{error, fmt, io};

/// Why a ring could not be created.
///
/// Every constructor of the crate returns this type. Nothing is left mapped when it is
/// returned: a failed creation releases whatever it had reserved before reporting.
///
/// # Examples
///
/// ```
/// use picoring::{Error, PicoRing};
///
/// let err = PicoRing::<u8>::with_capacity(0).unwrap_err();
/// assert!(matches!(err, Error::ZeroCapacity));
/// assert_eq!(err.to_string(), "capacity must be at least one element");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A capacity of zero elements was requested.
    ZeroCapacity,
    /// The capacity, once rounded up to the mapping granularity, does not fit in the
    /// address space (its byte size overflows `isize`).
    CapacityOverflow,
    /// The element type, or the start of a byte pipe, is to be aligned more strictly than
    /// the mapping granularity, so no mapping can place every slot at an aligned address.
    AlignmentTooLarge {
        /// `align_of::<T>()` of the element type, or the alignment asked of a pipe.
        align: usize,
        /// The mapping granularity of this platform, in bytes.
        granularity: usize,
    },
    /// The alignment asked of a byte pipe is not a power of two.
    AlignmentNotPowerOfTwo {
        /// The alignment asked for, in bytes.
        align: usize,
    },
    /// The operating system refused to create the mirrored mapping.
    Map {
        /// The system call that failed, such as `"memfd_create"` or `"mmap"`.
        call: &'static str,
        /// The error the system reported.
        source: io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ZeroCapacity => f.write_str("capacity must be at least one element"),
            Error::CapacityOverflow => f.write_str("capacity overflows the address space"),
            Error::AlignmentTooLarge { align, granularity } => write!(
                f,
                "alignment of {align} bytes exceeds the mapping granularity of {granularity} bytes"
            ),
            Error::AlignmentNotPowerOfTwo { align } => {
                write!(f, "alignment of {align} bytes is not a power of two")
            }
            Error::Map { call, .. } => write!(f, "failed to map mirrored memory: {call} failed"),
        }
    }
}

impl error::Error for Error {
    fn source(&self) -> Option<&(dyn error::Error + 'static)> {
        match self {
            Error::Map { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// For constructors called where an `io::Result` is returned, such as
/// [`pipe::Buffer::new`](crate::pipe::Buffer::new).
///
/// [`Error::Map`] keeps the kind of the OS error; a request no ring can satisfy (zero,
/// overflowing, or a bad alignment) is [`io::ErrorKind::InvalidInput`]. The `Error` itself
/// is the inner error.
impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match &err {
            Error::Map { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, err)
    }
}

impl Error {
    /// Builds a [`Error::Map`] from the thread's last OS error.
    #[cfg_attr(
        any(
            miri,
            loom,
            picoring_heap,
            target_os = "macos",
            target_os = "ios",
            not(any(unix, windows))
        ),
        allow(dead_code, reason = "Mach calls and the heap backend set no errno")
    )]
    pub(crate) fn last_os(call: &'static str) -> Error {
        Error::Map {
            call,
            source: io::Error::last_os_error(),
        }
    }
}
