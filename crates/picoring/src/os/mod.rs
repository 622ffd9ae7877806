//! The only code that talks to the operating system.
//!
//! A backend maps `2 * period` bytes of address space so that the second half shows the
//! same memory as the first. Each backend exposes the same three functions:
//!
//! ```text
//! fn granularity() -> usize                                   // power of two, in bytes; cached here
//! fn map(period: usize) -> Result<NonNull<u8>, Error>         // period: a multiple of granularity()
//! unsafe fn unmap(base: NonNull<u8>, period: usize)
//! ```
//!
//! The backend is chosen here, once:
//!
//! | platform | backend |
//! |---|---|
//! | Linux, Android | `linux.rs`: `memfd_create`, one `PROT_NONE` reservation, two `MAP_FIXED` views |
//! | macOS, iOS | `apple.rs`: `mach_vm_allocate` + `mach_vm_remap` |
//! | Windows | `windows.rs`: `VirtualAlloc2` placeholders + `MapViewOfFile3` |
//! | Miri, loom, `--cfg picoring_heap`, anything else | `heap.rs`: one heap block whose halves the core keeps equal |
//!
//! Backends whose halves are one memory also provide `fn at_fork_child(handler: extern "C" fn())`,
//! which `recycle.rs` uses to keep released mappings for reuse safely across `fork`.
//!
//! [`Mapping`] owns one mapping. Its `written`, `lend` and `settle` hooks are empty for the
//! real mirrors; for the heap backend they copy freshly written bytes to their twin, which is
//! what makes one index code serve every backend.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Error;

#[cfg(not(loom))]
pub(crate) mod barrier;
pub(crate) mod pages;
mod recycle;

#[cfg(all(
    not(any(miri, loom, picoring_heap)),
    any(target_os = "linux", target_os = "android")
))]
#[path = "linux.rs"]
mod imp;

#[cfg(all(
    not(any(miri, loom, picoring_heap)),
    any(target_os = "macos", target_os = "ios")
))]
#[path = "apple.rs"]
mod imp;

#[cfg(all(not(any(miri, loom, picoring_heap)), windows))]
#[path = "windows.rs"]
mod imp;

#[cfg(any(
    miri,
    loom,
    picoring_heap,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        windows
    ))
))]
#[path = "heap.rs"]
mod imp;

/// Whether the two halves of a [`Mapping`] are one memory (`true`) or two copies that the
/// core keeps equal (`false`, the heap backend).
pub(crate) const MIRRORED: bool = imp::MIRRORED;

/// The unit of every mapping, in bytes: a power of two.
///
/// The page size on Linux and macOS, the 64 KiB allocation granularity on Windows.
pub(crate) fn granularity() -> usize {
    static CACHED: AtomicUsize = AtomicUsize::new(0);
    match CACHED.load(Ordering::Relaxed) {
        0 => {
            let granularity = imp::granularity();
            debug_assert!(granularity.is_power_of_two());
            CACHED.store(granularity, Ordering::Relaxed);
            granularity
        }
        cached => cached,
    }
}

/// An owned mirrored mapping of `2 * period` bytes.
///
/// Byte `i` and byte `i + period` are the same memory (or, on the heap backend, are kept
/// equal by the `written`/`lend`/`settle` hooks).
pub(crate) struct Mapping {
    base: NonNull<u8>,
    period: usize,
    twin: imp::Twin,
}

// SAFETY: a `Mapping` is plain memory owned by one value; which thread maps, reads or unmaps
// it does not matter. The heap backend's `Twin` is itself `Send + Sync` (a mutex).
unsafe impl Send for Mapping {}
// SAFETY: shared access only hands out the base address; every write through it is ruled by
// the structure above, and `settle` serialises its copies behind the `Twin`'s mutex.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps `period` bytes twice, back to back.
    ///
    /// `period` must be a non-zero multiple of [`granularity()`] with `2 * period <= isize::MAX`.
    pub(crate) fn new(period: usize) -> Result<Mapping, Error> {
        debug_assert!(period > 0 && period % granularity() == 0);
        debug_assert!(period <= isize::MAX as usize / 2);
        let recycled = if MIRRORED {
            recycle::take(period)
        } else {
            None
        };
        let base = match recycled {
            Some(base) => base,
            None => imp::map(period)?,
        };
        #[allow(
            clippy::default_constructed_unit_structs,
            reason = "the twin is a unit struct only on the mirrored backends"
        )]
        Ok(Mapping {
            base,
            period,
            twin: imp::Twin::default(),
        })
    }

    /// The first byte of the first half.
    #[inline]
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    /// Makes the twin of `[offset, offset + len)` equal to it, after that range was written.
    ///
    /// A no-op for the real mirrors.
    ///
    /// # Safety
    ///
    /// `offset + len <= 2 * period` and `len <= period`; no reference to the twin bytes is
    /// alive, and no other thread accesses them.
    #[inline(always)]
    pub(crate) unsafe fn written(&self, offset: usize, len: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { imp::Twin::copy(self.base, self.period, offset, len) };
    }

    /// Records that `[offset, offset + len)` is lent out mutably: its twin is brought up to
    /// date by the next [`Mapping::settle`]. A no-op for the real mirrors.
    #[inline(always)]
    pub(crate) fn lend(&self, offset: usize, len: usize) {
        self.twin.lend(offset, len);
    }

    /// Copies a range lent by [`Mapping::lend`] to its twin, once the loan has ended.
    ///
    /// Every method of a structure that reads through a window calls this first. A no-op for
    /// the real mirrors.
    #[inline(always)]
    pub(crate) fn settle(&self) {
        self.twin.settle(self.base, self.period);
    }
}

/// The twin book-keeping of a backend whose halves are one memory: there is nothing to keep.
#[cfg_attr(
    any(miri, loom, picoring_heap, not(any(unix, windows))),
    allow(dead_code, reason = "the heap backend keeps a twin")
)]
#[derive(Default)]
pub(crate) struct NoTwin;

#[cfg_attr(
    any(miri, loom, picoring_heap, not(any(unix, windows))),
    allow(dead_code, reason = "the heap backend keeps a twin")
)]
impl NoTwin {
    /// Nothing to copy: the twin is the same memory.
    ///
    /// # Safety
    ///
    /// None; `unsafe` only to match the heap backend's signature.
    #[inline(always)]
    pub(crate) unsafe fn copy(_base: NonNull<u8>, _period: usize, _offset: usize, _len: usize) {}

    /// Nothing to record.
    #[inline(always)]
    pub(crate) fn lend(&self, _offset: usize, _len: usize) {}

    /// Nothing to settle.
    #[inline(always)]
    pub(crate) fn settle(&self, _base: NonNull<u8>, _period: usize) {}
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if MIRRORED && recycle::give(self.base, self.period) {
            return;
        }
        // SAFETY: `base` and `period` come from `imp::map`, and this is the only owner.
        unsafe { imp::unmap(self.base, self.period) };
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("base", &self.base)
            .field("period", &self.period)
            .field("mirrored", &MIRRORED)
            .finish()
    }
}
