//! Waiting for a peer: cache padding, back-off, and blocking or async waits, in one place.
//!
//! Every structure that lets a thread wait for another uses the same three pieces:
//!
//! - [`CachePadded`] keeps indices written by different threads on different cache lines;
//! - [`Backoff`] spins, then yields (only yields, when the threads outnumber the CPUs), for a
//!   few microseconds at most;
//! - [`Event`] is where a waiter sleeps (a parked thread or a task's waker) until a peer
//!   publishes a change and calls [`Event::notify`].
//!
//! # The handshake
//!
//! A waiter and a notifier each store, then load, two locations:
//!
//! ```text
//! waiter                                   notifier
//! ------                                   --------
//! register (waiters = 1)                   publish the change (Release store of an index)
//! barrier::heavy()                         barrier::light()
//! check the condition again -> sleep       load waiters -> if != 0, wake them
//! ```
//!
//! The barriers order each side's store before its load, so at least one side sees the
//! other's store: either the waiter sees the change and does not sleep, or the notifier sees
//! the waiter and wakes it. No wake-up is lost. Notifying is on every push and pop, sleeping
//! is rare, so the cost is put on the sleeper: where the OS can make every thread of the
//! process execute a barrier (`membarrier` on Linux, `FlushProcessWriteBuffers` on Windows),
//! [`barrier::light`] is a compiler fence and [`barrier::heavy`] is that system call.
//! Elsewhere both sides use `fence(SeqCst)`: an event then keeps a bit set in its waiter
//! word for good, so the notifier's first load never reads zero and takes it to the fence
//! and a second load, which decides. The fast path is thus the same code everywhere: one
//! load, one branch.

mod backoff;
pub(crate) mod barrier;
mod event;

pub(crate) use backoff::Backoff;
pub(crate) use crossbeam_utils::CachePadded;
pub(crate) use event::{Event, Key};

/// Atomics, locks and threads: `std`'s, or loom's when its models run.
#[cfg(not(loom))]
pub(crate) mod prim {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use std::thread;
}

/// Atomics, locks and threads: `std`'s, or loom's when its models run.
#[cfg(loom)]
pub(crate) mod prim {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
    pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
    pub(crate) use loom::thread;
}
