//! [`Backoff`]: a short, bounded spin before a waiter goes to sleep.

use std::cell::Cell;

/// Steps that spin, doubling the number of spin hints each time (1, 2, 4 .. 64).
const SPIN_STEPS: u32 = 7;
/// Steps that yield the processor, after the spinning ones.
const YIELD_STEPS: u32 = 4;

/// Spins, then yields, then reports that the caller should sleep.
///
/// Spinning is for a peer that is running on another core and about to publish; yielding
/// lets a peer on the same core run. Both together last a few microseconds; after that,
/// [`Backoff::is_completed`] says to park.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: Cell<u32>,
}

impl Backoff {
    /// A back-off at its first step.
    pub(crate) fn new() -> Backoff {
        Backoff::default()
    }

    /// Waits a little longer than the previous call.
    pub(crate) fn snooze(&self) {
        let step = self.step.get();
        if cfg!(loom) {
            super::prim::thread::yield_now();
        } else if step < SPIN_STEPS {
            for _ in 0..1u32 << step {
                std::hint::spin_loop();
            }
        } else {
            super::prim::thread::yield_now();
        }
        self.step.set(step + 1);
    }

    /// Whether waiting longer should mean sleeping.
    ///
    /// Under loom, at once: spinning only multiplies the interleavings to explore.
    pub(crate) fn is_completed(&self) -> bool {
        cfg!(loom) || self.step.get() >= SPIN_STEPS + YIELD_STEPS
    }
}
