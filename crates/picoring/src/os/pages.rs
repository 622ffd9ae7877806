//! Private memory in whole pages, straight from the OS, for big storage that is not
//! mirrored (the chunks of a `PicoList`).
//!
//! A general-purpose allocator puts a header in front of a large block, which costs an
//! extra page per block and leaves the data off page boundaries; mapping pages directly
//! avoids both, and adjacent mappings usually merge into one region.

use std::ptr::NonNull;

/// The size from which a block is worth mapping directly, in bytes.
pub(crate) const MIN_LEN: usize = 64 * 1024;

/// The alignment every block from [`alloc`] has.
pub(crate) const ALIGN: usize = 4096;

/// Maps `len` bytes (`len > 0`) of zeroed, private, read-write memory aligned to [`ALIGN`];
/// `None` if the OS refuses.
pub(crate) fn alloc(len: usize) -> Option<NonNull<u8>> {
    debug_assert!(len > 0);
    imp::alloc(len)
}

/// Unmaps a block.
///
/// # Safety
///
/// `ptr` and `len` are those of one earlier [`alloc`], not yet freed.
pub(crate) unsafe fn free(ptr: NonNull<u8>, len: usize) {
    // SAFETY: forwarded.
    unsafe { imp::free(ptr, len) }
}

#[cfg(all(not(any(miri, loom)), unix))]
mod imp {
    use std::ptr::{self, NonNull};

    pub(super) fn alloc(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: a fresh anonymous mapping; no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANON,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(p.cast())
        }
    }

    pub(super) unsafe fn free(ptr: NonNull<u8>, len: usize) {
        // SAFETY: the caller passes one whole mapping made by `alloc`.
        let rc = unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
        debug_assert_eq!(rc, 0, "munmap of a block from `alloc` failed");
    }
}

#[cfg(all(not(any(miri, loom)), windows))]
mod imp {
    use std::ptr::{self, NonNull};

    use windows_sys::Win32::System::Memory::{
        MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE, VirtualAlloc, VirtualFree,
    };

    pub(super) fn alloc(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: a fresh allocation of address space; no existing memory is touched.
        let p = unsafe { VirtualAlloc(ptr::null(), len, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) };
        NonNull::new(p.cast())
    }

    pub(super) unsafe fn free(ptr: NonNull<u8>, _len: usize) {
        // SAFETY: the caller passes the base of one allocation made by `alloc`.
        let ok = unsafe { VirtualFree(ptr.as_ptr().cast(), 0, MEM_RELEASE) };
        debug_assert_ne!(ok, 0, "VirtualFree of a block from `alloc` failed");
    }
}

#[cfg(any(miri, loom, not(any(unix, windows))))]
mod imp {
    use std::alloc::{self, Layout};
    use std::ptr::NonNull;

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, super::ALIGN).expect("a block fits in isize")
    }

    pub(super) fn alloc(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: `len > 0`.
        NonNull::new(unsafe { alloc::alloc_zeroed(layout(len)) })
    }

    pub(super) unsafe fn free(ptr: NonNull<u8>, len: usize) {
        // SAFETY: allocated by `alloc` above with the same layout.
        unsafe { alloc::dealloc(ptr.as_ptr(), layout(len)) };
    }
}
