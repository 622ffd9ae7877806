//! The heap backend: one block of `2 * period` bytes whose halves the core keeps equal.
//!
//! It is used under Miri and loom (which cannot see a double mapping), with
//! `--cfg picoring_heap` (to run the whole test suite against the emulation), and on
//! platforms without a mirroring backend.
//!
//! The index code above it is the same in every backend. The difference is in the hooks:
//! after the core writes a window it calls [`Twin::copy`], which copies those bytes to the
//! other half; a window lent out mutably is recorded by [`Twin::lend`] and copied by the
//! next [`Twin::settle`], which every reader calls first.

use std::alloc::{self, Layout};
use std::io;
use std::ptr::{self, NonNull};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Error;

pub(crate) const MIRRORED: bool = false;

/// The emulated page: small under Miri so that tests wrap often, the usual page otherwise.
pub(crate) fn granularity() -> usize {
    if cfg!(miri) { 64 } else { 4096 }
}

fn layout(period: usize) -> Result<Layout, Error> {
    let len = period.checked_mul(2).ok_or(Error::CapacityOverflow)?;
    Layout::from_size_align(len, granularity()).map_err(|_| Error::CapacityOverflow)
}

pub(crate) fn map(period: usize) -> Result<NonNull<u8>, Error> {
    let layout = layout(period)?;
    // Zeroed, like the pages of the mapped backends, so that free slots of a type for which
    // every bit pattern is valid (bytes) may be lent as initialised.
    // SAFETY: `period > 0`, so the layout has a non-zero size.
    let block = unsafe { alloc::alloc_zeroed(layout) };
    NonNull::new(block).ok_or(Error::Map {
        call: "alloc",
        source: io::ErrorKind::OutOfMemory.into(),
    })
}

/// Frees a block made by [`map`].
///
/// # Safety
///
/// `base` and `period` come from one call of [`map`], and nothing uses the block any more.
pub(crate) unsafe fn unmap(base: NonNull<u8>, period: usize) {
    let layout = layout(period).expect("the layout was valid when the block was allocated");
    // SAFETY: allocated by `map` with this very layout.
    unsafe { alloc::dealloc(base.as_ptr(), layout) };
}

/// Never called: the heap backend recycles nothing.
pub(crate) fn at_fork_child(_handler: extern "C" fn()) -> bool {
    false
}

/// The range lent out mutably and not yet copied to its twin.
#[derive(Debug, Default)]
pub(crate) struct Twin {
    lent: AtomicBool,
    range: Mutex<Option<(usize, usize)>>,
}

impl Twin {
    /// Copies `[offset, offset + len)` of the block to the other half.
    ///
    /// # Safety
    ///
    /// `offset + len <= 2 * period`, `len <= period`, and no reference to the twin bytes is
    /// alive while they are written.
    pub(crate) unsafe fn copy(base: NonNull<u8>, period: usize, offset: usize, len: usize) {
        debug_assert!(len <= period && offset + len <= 2 * period);
        let end = offset + len;
        let base = base.as_ptr();
        let first_end = end.min(period);
        if offset < first_end {
            // SAFETY: `[offset, first_end)` lies in the first half and its twin
            // `[offset + period, first_end + period)` in the second; both are inside the block
            // and, as `len <= period`, they do not overlap.
            unsafe {
                ptr::copy_nonoverlapping(
                    base.add(offset),
                    base.add(offset + period),
                    first_end - offset,
                )
            };
        }
        let second_start = offset.max(period);
        if second_start < end {
            // SAFETY: `[second_start, end)` lies in the second half and its twin in the first;
            // `end - period <= offset`, so the twin ends before the written range starts.
            unsafe {
                ptr::copy_nonoverlapping(
                    base.add(second_start),
                    base.add(second_start - period),
                    end - second_start,
                )
            };
        }
    }

    /// Records a mutable loan of `[offset, offset + len)`, settling any earlier one first.
    pub(crate) fn lend(&self, offset: usize, len: usize) {
        let mut range = self.range.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(
            range.is_none(),
            "a loan must be settled before the next one"
        );
        *range = Some((offset, len));
        // Release: pairs with the Acquire load in `settle`, which then sees the range.
        self.lent.store(true, Ordering::Release);
    }

    /// Copies the lent range to its twin, if a loan is recorded.
    pub(crate) fn settle(&self, base: NonNull<u8>, period: usize) {
        // Acquire: pairs with the Release store in `lend`.
        if !self.lent.load(Ordering::Acquire) {
            return;
        }
        let mut range = self.range.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((offset, len)) = range.take() {
            // SAFETY: the range was a window of this block (so it is in bounds and at most
            // `period` long); the loan has ended, because the structure is being used again,
            // and views of the twin bytes are only made after `settle` returns. The mutex
            // keeps a second settling thread out until the copy is complete.
            unsafe { Twin::copy(base, period, offset, len) };
        }
        self.lent.store(false, Ordering::Release);
    }
}
