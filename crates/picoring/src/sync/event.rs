//! [`Event`]: where a waiter sleeps until its peer publishes a change.

use std::mem;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use super::prim::{AtomicUsize, Mutex, MutexGuard, Ordering, thread};
use super::{Backoff, barrier};

/// Identifies a waiter registered with an [`Event`], so that it can update or cancel its
/// registration.
pub(crate) type Key = u64;

/// Sleeping waiters of one condition ("the ring is not empty", "the ring has room").
///
/// [`notify`](Event::notify) is cheap when nobody sleeps: with asymmetric barriers (see the
/// [module docs](super)), a compiler fence, one relaxed load and a branch; with symmetric
/// ones, a fence and a second load besides.
#[derive(Debug)]
pub(crate) struct Event {
    /// The number of registered wakers, shifted left by one, with [`SYMMETRIC`] or'ed in
    /// for good when the barriers are symmetric (see [`barrier::init`]). Read by every
    /// notify: zero means that nobody sleeps and that no fence is needed to know it.
    state: AtomicUsize,
    list: Mutex<Waiters>,
}

/// The bit of [`Event::state`] that sends every notify to a full fence and a second look.
const SYMMETRIC: usize = 1;

#[derive(Debug, Default)]
struct Waiters {
    next: Key,
    wakers: Vec<(Key, Waker)>,
}

/// Wakes a thread parked in [`Event::wait`].
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.unpark();
    }
}

impl Event {
    /// An event with nobody waiting.
    pub(crate) fn new() -> Event {
        let symmetric = if barrier::init() { 0 } else { SYMMETRIC };
        Event {
            state: AtomicUsize::new(symmetric),
            list: Mutex::new(Waiters::default()),
        }
    }

    /// Whether the barriers are asymmetric: the [`SYMMETRIC`] bit, set or not for good when
    /// the event was created.
    fn asymmetric(&self) -> bool {
        self.state.load(Ordering::Relaxed) & SYMMETRIC == 0
    }

    /// The state for `waiters` registered wakers.
    fn bits(&self, waiters: usize) -> usize {
        waiters << 1 | if self.asymmetric() { 0 } else { SYMMETRIC }
    }

    fn lock(&self) -> MutexGuard<'_, Waiters> {
        // No code that can panic runs under the lock, but a poisoned list is still valid.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter; call it after publishing the change they may wait for.
    #[inline]
    pub(crate) fn notify(&self) {
        if self.anyone_waiting() {
            self.notify_slow();
        }
    }

    /// Whether a waiter is registered, as seen after the caller's publication.
    #[inline(always)]
    fn anyone_waiting(&self) -> bool {
        #[cfg(not(loom))]
        {
            barrier::light();
            let state = self.state.load(Ordering::Relaxed);
            if state != SYMMETRIC {
                return state != 0;
            }
            // Symmetric barriers and nobody registered so far: that load may predate the
            // caller's publication in a sleeper's eyes; only one after a fence decides.
        }
        // loom's barriers are symmetric too; it goes straight here, one load per notify,
        // which keeps its models small.
        barrier::heavy(false);
        self.state.load(Ordering::Relaxed) >> 1 != 0
    }

    #[cold]
    fn notify_slow(&self) {
        let wakers = {
            let mut list = self.lock();
            self.state.store(self.bits(0), Ordering::Relaxed);
            mem::take(&mut list.wakers)
        };
        for (_, waker) in wakers {
            waker.wake();
        }
    }

    /// Registers `waker` under `key` (or a new key), then orders the registration before
    /// the caller's next check of its condition.
    fn register(&self, key: &mut Option<Key>, waker: &Waker) {
        {
            let mut list = self.lock();
            let known = key.and_then(|k| list.wakers.iter_mut().find(|(id, _)| *id == k));
            match known {
                Some((_, old)) => {
                    if !old.will_wake(waker) {
                        old.clone_from(waker);
                    }
                }
                None => {
                    let id = list.next;
                    list.next += 1;
                    list.wakers.push((id, waker.clone()));
                    let bits = self.bits(list.wakers.len());
                    self.state.store(bits, Ordering::Relaxed);
                    *key = Some(id);
                }
            }
        }
        barrier::heavy(self.asymmetric());
    }

    /// Removes the registration under `key`, if it is still there.
    pub(crate) fn cancel(&self, key: &mut Option<Key>) {
        if let Some(id) = key.take() {
            let mut list = self.lock();
            if let Some(i) = list.wakers.iter().position(|(k, _)| *k == id) {
                list.wakers.swap_remove(i);
                let bits = self.bits(list.wakers.len());
                self.state.store(bits, Ordering::Relaxed);
            }
        }
    }

    /// Blocks until `ready` returns `Some`, or until `deadline` passes (then `ready`'s last
    /// answer, which is `None`).
    ///
    /// `ready` is checked, then spun on briefly (unless the `threads` threads that share the
    /// structure outnumber the CPUs), then checked after each wake-up; the notifier must
    /// publish what `ready` reads before it calls [`notify`](Event::notify).
    pub(crate) fn wait<R>(
        &self,
        threads: usize,
        deadline: Option<Instant>,
        mut ready: impl FnMut() -> Option<R>,
    ) -> Option<R> {
        let backoff = Backoff::new(threads);
        loop {
            if let Some(r) = ready() {
                return Some(r);
            }
            if backoff.is_completed() {
                break;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            backoff.snooze();
        }
        let waker = Waker::from(StdArc::new(Unpark(thread::current())));
        let mut key = None;
        loop {
            self.register(&mut key, &waker);
            if let Some(r) = ready() {
                self.cancel(&mut key);
                return Some(r);
            }
            match deadline {
                None => thread::park(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        self.cancel(&mut key);
                        return ready();
                    }
                    park_timeout(deadline - now);
                }
            }
        }
    }

    /// The async form of [`wait`](Event::wait): `Ready` with `ready`'s answer, or `Pending`
    /// with the task's waker registered under `key`.
    ///
    /// A future that polls this must [`cancel`](Event::cancel) `key` when it is dropped.
    pub(crate) fn poll<R>(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<Key>,
        mut ready: impl FnMut() -> Option<R>,
    ) -> Poll<R> {
        if let Some(r) = ready() {
            self.cancel(key);
            return Poll::Ready(r);
        }
        self.register(key, cx.waker());
        match ready() {
            Some(r) => {
                self.cancel(key);
                Poll::Ready(r)
            }
            None => Poll::Pending,
        }
    }
}

#[cfg(not(loom))]
fn park_timeout(timeout: std::time::Duration) {
    thread::park_timeout(timeout);
}

/// loom has no clock: a timed wait parks like an untimed one.
#[cfg(loom)]
fn park_timeout(_timeout: std::time::Duration) {
    thread::park();
}
