//! Linux and Android: one anonymous memory file, mapped twice inside one reservation.
//!
//! 1. `memfd_create(MFD_CLOEXEC)`: a file with no name in any namespace, so no other thread
//!    or process can take, squat or leak it.
//! 2. `ftruncate` to `period` bytes.
//! 3. One `PROT_NONE` reservation of `2 * period` bytes, then two `MAP_FIXED | MAP_SHARED`
//!    views of the file inside it: the addresses are never released in between, so no other
//!    thread can map something there (no unmap-then-hope).
//! 4. `madvise(MADV_DONTFORK)`: a child made by `fork` does not inherit the ring.
//! 5. The file descriptor is closed; the views keep the memory alive.
//!
//! Any failure unmaps the reservation and closes the descriptor before it is reported.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::{self, NonNull};

use crate::Error;

pub(crate) use super::NoTwin as Twin;

pub(crate) const MIRRORED: bool = true;

/// The page size, as the system reports it.
pub(crate) fn granularity() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let raw = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    match usize::try_from(raw) {
        Ok(page) if page.is_power_of_two() => page,
        _ => 4096,
    }
}

/// The reservation, unmapped on drop unless it is handed out with [`Reservation::keep`].
struct Reservation {
    base: *mut libc::c_void,
    len: usize,
}

impl Reservation {
    fn keep(self) -> *mut libc::c_void {
        let base = self.base;
        std::mem::forget(self);
        base
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: `base..base + len` is a mapping this value owns; nothing refers to it yet.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

pub(crate) fn map(period: usize) -> Result<NonNull<u8>, Error> {
    let len = period.checked_mul(2).ok_or(Error::CapacityOverflow)?;
    let file_len = libc::off_t::try_from(period).map_err(|_| Error::CapacityOverflow)?;

    // SAFETY: the name is a NUL-terminated literal; the call has no other preconditions.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            c"picoring".as_ptr(),
            libc::MFD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_os("memfd_create"));
    }
    let fd = libc::c_int::try_from(fd).map_err(|_| Error::last_os("memfd_create"))?;
    // SAFETY: `fd` is a descriptor that was just opened and that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };

    // SAFETY: `fd` is an open memory file.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), file_len) } != 0 {
        return Err(Error::last_os("ftruncate"));
    }

    // SAFETY: an anonymous mapping at an address of the kernel's choosing touches no
    // existing memory.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(Error::last_os("mmap"));
    }
    let reservation = Reservation { base, len };

    for half in [0, period] {
        // SAFETY: `half < len`, so the address lies inside the reservation.
        let at = unsafe { base.cast::<u8>().add(half) }.cast();
        // SAFETY: `MAP_FIXED` replaces `period` bytes of our own reservation, which nothing
        // else uses; `fd` is an open file of `period` bytes.
        let view = unsafe {
            libc::mmap(
                at,
                period,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                fd.as_raw_fd(),
                0,
            )
        };
        if view == libc::MAP_FAILED {
            return Err(Error::last_os("mmap"));
        }
    }

    // SAFETY: the range is the mapping made above.
    if unsafe { libc::madvise(base, len, libc::MADV_DONTFORK) } != 0 {
        return Err(Error::last_os("madvise"));
    }

    drop(fd);
    let base = reservation.keep();
    NonNull::new(base.cast()).ok_or_else(|| Error::last_os("mmap"))
}

/// Runs `handler` in the child after every `fork()`. Returns whether it was registered.
pub(crate) fn at_fork_child(handler: extern "C" fn()) -> bool {
    // SAFETY: registering a handler has no preconditions; `handler` only touches an atomic,
    // which is allowed in a forked child.
    unsafe { libc::pthread_atfork(None, None, Some(handler)) == 0 }
}

/// Releases a mapping made by [`map`].
///
/// # Safety
///
/// `base` and `period` come from one call of [`map`], and nothing uses the memory any more.
pub(crate) unsafe fn unmap(base: NonNull<u8>, period: usize) {
    // SAFETY: the caller hands over the whole mapping, both halves in one range.
    unsafe { libc::munmap(base.as_ptr().cast(), 2 * period) };
}
