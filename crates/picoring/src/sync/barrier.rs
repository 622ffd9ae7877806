//! The two halves of an asymmetric barrier (see the [module docs](super)).

#[cfg(not(loom))]
use std::sync::atomic::{AtomicU8, Ordering, compiler_fence};

use super::prim::{Ordering as Order, fence};
#[cfg(not(loom))]
use crate::os;

/// Not yet decided: both halves are full fences.
#[cfg(not(loom))]
const UNKNOWN: u8 = 0;
/// The process barrier works: the light half is a compiler fence.
#[cfg(not(loom))]
const ASYMMETRIC: u8 = 1;
/// No process barrier: both halves are full fences.
#[cfg(not(loom))]
const SYMMETRIC: u8 = 2;

/// Which barriers are in use. It changes once, from `UNKNOWN`, in [`init`]; after that it
/// never changes again.
#[cfg(not(loom))]
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Chooses the barriers, once per process; `true` if they are asymmetric (the light half
/// a compiler fence). An [`Event`](super::Event) asks when it is created and keeps the
/// answer, which never changes afterwards.
pub(crate) fn init() -> bool {
    #[cfg(not(loom))]
    {
        let mut mode = MODE.load(Ordering::Acquire);
        if mode == UNKNOWN {
            mode = if os::barrier::register() {
                ASYMMETRIC
            } else {
                SYMMETRIC
            };
            // Racing initialisations compute the same answer.
            MODE.store(mode, Ordering::Release);
        }
        mode == ASYMMETRIC
    }
    #[cfg(loom)]
    false
}

/// The frequent half: orders an earlier store before a later load of this thread, provided
/// the thread on the other side runs [`heavy`] with asymmetric barriers. With symmetric
/// ones, the caller follows it with [`heavy`] itself before a load that decides anything
/// (see [`Event::notify`](super::Event::notify)). loom models no compiler fence, and its
/// barriers are symmetric: there, callers use [`heavy`] alone.
#[cfg(not(loom))]
#[inline(always)]
pub(crate) fn light() {
    compiler_fence(Ordering::SeqCst);
}

/// The rare half: a full barrier in this thread and, if `asymmetric`, in every thread of
/// the process.
pub(crate) fn heavy(asymmetric: bool) {
    #[cfg(loom)]
    let _ = asymmetric;
    #[cfg(not(loom))]
    if asymmetric {
        if os::barrier::process_barrier() {
            return;
        }
        // The registration was lost (a forked child is not registered): register again.
        if os::barrier::register() && os::barrier::process_barrier() {
            return;
        }
        panic!("membarrier failed after it was registered; notifiers rely on it");
    }
    fence(Order::SeqCst);
}
