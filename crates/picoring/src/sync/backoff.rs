//! [`Backoff`]: a short, bounded spin (or yield) before a waiter goes to sleep.

use std::cell::Cell;
use std::num::NonZero;
use std::sync::OnceLock;

/// Steps that spin, doubling the number of spin hints each time (1, 2, 4 .. 64).
const SPIN_STEPS: u32 = 7;
/// Steps that yield the processor, after the spinning ones.
const YIELD_STEPS: u32 = 4;

/// Spins, then yields, then reports that the caller should sleep.
///
/// Spinning is for a peer that is running on another core and about to publish; yielding
/// lets a peer on the same core run. Both together last a few microseconds; after that,
/// [`Backoff::is_completed`] says to park.
///
/// When the threads sharing a structure outnumber the CPUs, the peer may well be waiting
/// for a CPU, and a spinning waiter holds one: such a back-off yields at every step instead,
/// as many steps in all.
#[derive(Debug)]
pub(crate) struct Backoff {
    step: Cell<u32>,
    /// The steps that spin: [`SPIN_STEPS`], or 0 when spinning cannot pay off.
    spins: u32,
}

impl Backoff {
    /// A back-off at its first step, for a structure that `threads` threads share.
    pub(crate) fn new(threads: usize) -> Backoff {
        Backoff {
            step: Cell::new(0),
            spins: if threads <= cpus() { SPIN_STEPS } else { 0 },
        }
    }

    /// Waits a little longer than the previous call.
    pub(crate) fn snooze(&self) {
        let step = self.step.get();
        if cfg!(loom) {
            super::prim::thread::yield_now();
        } else if step < self.spins {
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

/// The number of CPUs this process may run on, as the OS reports it (1 if it does not).
fn cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZero::get))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn spins_only_when_every_thread_can_have_a_cpu() {
        assert_eq!(Backoff::new(1).spins, SPIN_STEPS);
        assert_eq!(Backoff::new(cpus()).spins, SPIN_STEPS);
        assert_eq!(Backoff::new(cpus() + 1).spins, 0);
    }

    #[test]
    fn takes_as_many_steps_either_way() {
        for threads in [1, cpus() + 1] {
            let backoff = Backoff::new(threads);
            for _ in 0..SPIN_STEPS + YIELD_STEPS {
                assert!(!backoff.is_completed());
                backoff.snooze();
            }
            assert!(backoff.is_completed(), "{threads} threads");
        }
    }
}
