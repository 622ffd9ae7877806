//! A small process-wide cache of released mappings.
//!
//! Mapping a ring takes about eight system calls, which cost tens of microseconds on a
//! virtual machine. Programs that create and drop rings at a steady pace (a buffer per
//! connection, per request, per test) mostly create the size they just dropped, so a dropped
//! mapping of at most [`MAX_PERIOD`] bytes is kept here, up to [`MAX_ENTRIES`] of them, and
//! handed to the next ring of the same size instead of a fresh one.
//!
//! * The cache never blocks: it is used with `try_lock`, and a busy cache is simply skipped.
//!   So a child forked while another thread held the lock cannot deadlock on it.
//! * Mappings are not inherited by a forked child (see the backends' fork policy), so the
//!   entries a child inherits describe memory that is not there. A fork handler bumps a
//!   generation counter in the child, and entries of an older generation are forgotten
//!   (never unmapped: the child may have mapped something else at those addresses since).
//! * A recycled mapping holds whatever its last ring wrote. Structures never expose a free
//!   slot as an initialised value, so this is invisible to safe code.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use super::imp;

/// The largest mapping (one half, in bytes) kept for reuse.
pub(crate) const MAX_PERIOD: usize = 1 << 20;
/// The most mappings kept for reuse.
pub(crate) const MAX_ENTRIES: usize = 8;

struct Entry {
    base: NonNull<u8>,
    period: usize,
    generation: usize,
}

// SAFETY: an entry is an address range owned by nobody but the cache; any thread may take it.
unsafe impl Send for Entry {}

static CACHE: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static GENERATION: AtomicUsize = AtomicUsize::new(0);
static FORK_HANDLER: Once = Once::new();
/// Whether the fork handler is in place; without it, nothing is recycled.
static ENABLED: AtomicBool = AtomicBool::new(false);

extern "C" fn forked_child() {
    // Only an atomic: a fork handler may run nothing that could block or allocate.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// A cached mapping of exactly `period` bytes, if there is one.
pub(crate) fn take(period: usize) -> Option<NonNull<u8>> {
    let mut cache = CACHE.try_lock().ok()?;
    let generation = GENERATION.load(Ordering::Relaxed);
    cache.retain(|e| e.generation == generation);
    let i = cache.iter().position(|e| e.period == period)?;
    Some(cache.swap_remove(i).base)
}

/// Keeps a released mapping for reuse. Returns `false` when the caller must unmap it.
pub(crate) fn give(base: NonNull<u8>, period: usize) -> bool {
    if period > MAX_PERIOD {
        return false;
    }
    FORK_HANDLER.call_once(|| ENABLED.store(imp::at_fork_child(forked_child), Ordering::Relaxed));
    if !ENABLED.load(Ordering::Relaxed) {
        return false;
    }
    let Ok(mut cache) = CACHE.try_lock() else {
        return false;
    };
    if cache.len() >= MAX_ENTRIES {
        return false;
    }
    if cache.capacity() == 0 {
        cache.reserve_exact(MAX_ENTRIES);
    }
    cache.push(Entry {
        base,
        period,
        generation: GENERATION.load(Ordering::Relaxed),
    });
    true
}
