//! [`MpscConsumer`]: the reading half.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{HOLE, Shared, stamp_of};
use crate::PopTimeoutError;
use crate::mirror;
use crate::sync::Key;
use crate::sync::prim::{Arc, Ordering};

/// The number of stamps in a cache line.
const STAMPS_PER_LINE: usize = mirror::LINE / std::mem::size_of::<usize>();

/// How many runs ahead of its scan the consumer fetches a stamp.
const RUNS_AHEAD: usize = 4;

/// The reading half of a [`PicoMPSC`](super::PicoMPSC).
///
/// It is [`Send`] when `T` is, but neither `Sync` nor `Clone`: there is one consumer. It
/// reads items in the order their runs were claimed, which keeps each producer's order.
/// [`readable_slice`](MpscConsumer::readable_slice) shows the items published so far, up to
/// the first run still being written, as one slice even across the physical end of the ring.
///
/// A slice from `readable_slice` borrows the consumer, so the slots it shows cannot be
/// handed back to the producers while it is alive:
///
/// ```compile_fail
/// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
/// producer.push(1).unwrap();
/// let slice = consumer.readable_slice();
/// consumer.advance_tail(1); // error: `consumer` is still borrowed by `slice`
/// assert_eq!(slice[0], 1);
/// ```
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>(_: &T) {}
/// let (_producer, consumer) = picoring::create_mpsc::<u8>(8).unwrap();
/// shared_between_threads(&consumer); // error: `MpscConsumer` is not `Sync`
/// ```
pub struct MpscConsumer<T> {
    shared: Arc<Shared<T>>,
    /// The oldest unconsumed position; only this half writes it.
    tail: Cell<usize>,
    /// The number of items from `tail` known to be published: the readable prefix, which
    /// ends at a run boundary.
    ready: Cell<usize>,
}

// SAFETY: the consumer takes `T`s that producer threads moved in, and lends `&T`s only to
// its own thread, so `T: Send` suffices. The `Cell`s keep it from being `Sync`.
unsafe impl<T: Send> Send for MpscConsumer<T> {}

/// Why the readable prefix ends where it does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum End {
    /// At a run still being written (or free slots).
    Unpublished,
    /// At a hole after some items: more will be readable once those are consumed.
    Hole,
}

impl<T> MpscConsumer<T> {
    pub(super) fn new(shared: Arc<Shared<T>>) -> MpscConsumer<T> {
        MpscConsumer {
            shared,
            tail: Cell::new(0),
            ready: Cell::new(0),
        }
    }

    /// Extends the readable prefix over the runs published since the last look, skipping
    /// holes at the front, until it holds at least `wanted` items. Returns its length and
    /// what ends it.
    ///
    /// Stopping at `wanted` matters when the consumer has caught up with the producers: a
    /// `pop` then reads the stamp of its own item only, and leaves the next stamp's line to
    /// the producer about to write it instead of pulling it away first.
    fn refresh(&self, wanted: usize) -> (usize, End) {
        let shared = &*self.shared;
        let cap = shared.capacity();
        let mut tail = self.tail.get();
        let mut ready = self.ready.get();
        let mut skipped = false;
        let mut end = End::Unpublished;
        // Each stamp tells where the next one is. A run like the last one (producers often
        // send items one at a time, or batches of one size) is taken on a comparison alone,
        // so the next position does not depend on the value loaded: the processor predicts
        // the branch and loads the next stamps while this one is still on its way.
        // The length of the last run of items, 0 before the first.
        let mut last_n = 0;
        let enough = wanted.min(cap);
        while ready < enough {
            let at = tail.wrapping_add(ready);
            let stamp = shared.stamp(at);
            // Acquire: pairs with the Release store in `Shared::publish_quietly`; the run's
            // items are visible from here on.
            let s = stamp.load(Ordering::Acquire);
            if last_n != 0 && s == stamp_of(at.wrapping_add(last_n), false) {
                ready += last_n;
                continue;
            }
            let Some(n) = shared.run_at(s, at) else {
                break;
            };
            debug_assert!(ready + n <= cap, "run of {n} after {ready} items");
            // A run of a line of stamps or more is likely followed by runs of its size
            // (producers sending batches): ask for the stamp a few such runs ahead too, for
            // more lines on their way at once.
            if n >= STAMPS_PER_LINE {
                shared.prefetch_stamp(at.wrapping_add(n.wrapping_mul(RUNS_AHEAD)));
            }
            if s & HOLE != 0 {
                if ready > 0 {
                    end = End::Hole;
                    break;
                }
                tail = tail.wrapping_add(n);
                skipped = true;
            } else {
                ready += n;
                last_n = n;
            }
        }
        self.ready.set(ready);
        if skipped {
            // No slice can borrow the skipped slots: they were never readable.
            self.tail.set(tail);
            self.publish_tail(tail);
        }
        (ready, end)
    }

    /// Hands everything before `tail` back to the producers and wakes any that sleep.
    #[inline]
    fn publish_tail(&self, tail: usize) {
        // Release: pairs with the producers' Acquire loads of `tail` (directly or through
        // `tail_seen`): reads of the freed slots and of their stamps happen before the slots
        // are claimed again.
        self.shared.tail.store(tail, Ordering::Release);
        self.shared.rare.writable.notify();
    }

    /// The number of readable items if at least `wanted` are known, else refreshed.
    #[inline]
    fn ready_for(&self, wanted: usize) -> usize {
        let ready = self.ready.get();
        if ready >= wanted {
            ready
        } else {
            self.refresh(wanted).0
        }
    }

    /// Moves the tail past `n <= ready` items that were consumed.
    #[inline]
    fn release(&mut self, n: usize) {
        let tail = self.tail.get().wrapping_add(n);
        self.tail.set(tail);
        self.ready.set(self.ready.get() - n);
        self.publish_tail(tail);
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// The number of items readable now, in order: those
    /// [`readable_slice`](MpscConsumer::readable_slice) would show.
    ///
    /// Items behind a run that a producer is still writing are not counted.
    pub fn len(&self) -> usize {
        self.refresh(usize::MAX).0
    }

    /// Whether no item is readable now.
    pub fn is_empty(&self) -> bool {
        self.ready_for(1) == 0
    }

    /// Whether every producer is gone and every item has been read: nothing will ever
    /// arrive again.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
    /// producer.push(1).unwrap();
    /// drop(producer);
    /// assert!(!consumer.is_disconnected()); // one item left
    /// assert_eq!(consumer.pop(), Some(1));
    /// assert!(consumer.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        // Acquire: pairs with the Release decrement in `MpscProducer::drop`; every run the
        // producers published is visible to the refresh below.
        self.shared.rare.producers.load(Ordering::Acquire) == 0 && self.ready_for(1) == 0
    }

    /// Removes and returns the oldest item, or `None` if none is readable.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<String>(8).unwrap();
    /// producer.push("a".to_string()).unwrap();
    /// assert_eq!(consumer.pop().as_deref(), Some("a"));
    /// assert_eq!(consumer.pop(), None);
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.ready_for(1) == 0 {
            return None;
        }
        let shared = &*self.shared;
        let pos = self.tail.get();
        shared.track_read(pos, 1);
        let slot = shared.window(pos, 1);
        // SAFETY: the slot at `tail` holds a published item (Acquire in `refresh`); it is
        // read exactly once, because the tail moves past it before anyone can look again.
        let value = unsafe { slot.read() };
        // The verified items from this one on are this consumer's to read next.
        shared
            .mirror
            .prefetch_after_one(slot, self.ready.get(), false);
        self.release(1);
        Some(value)
    }

    /// Every readable item, oldest first, as one slice, even across the physical end of the
    /// ring.
    ///
    /// The slice ends where a producer is still writing its run (or gave it up: such a hole
    /// is skipped once the items before it are consumed).
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u32>(1).unwrap();
    /// let cap = consumer.capacity();
    /// // Move the positions near the physical end, then wrap.
    /// producer.push_slice(&vec![0; cap - 1]);
    /// consumer.advance_tail(cap - 1);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(consumer.readable_slice(), &[1, 2, 3]);
    /// ```
    pub fn readable_slice(&self) -> &[T] {
        let len = self.ready_for(usize::MAX);
        let shared = &*self.shared;
        let pos = self.tail.get();
        shared.track_read(pos, len);
        let start = shared.window(pos, len);
        // SAFETY: the `len` slots from `tail` hold published items (Acquire in `refresh`),
        // which no producer touches until the tail moves past them, and moving it over items
        // takes `&mut self`, so not while this slice lives. `len <= capacity`: no slot
        // appears twice.
        unsafe { std::slice::from_raw_parts(start, len) }
    }

    /// Drops the `n` oldest items and hands their slots back to the producers.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`len()`](MpscConsumer::len); nothing is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
    /// producer.push_slice(b"abc");
    /// consumer.advance_tail(2);
    /// assert_eq!(consumer.readable_slice(), b"c");
    /// ```
    #[track_caller]
    pub fn advance_tail(&mut self, n: usize) {
        let len = self.ready_for(n);
        if n > len {
            advance_out_of_bounds(n, len);
        }
        self.drop_front(n);
    }

    /// Drops the `n <= ready` oldest items and releases their slots, also if a drop panics.
    fn drop_front(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let shared = Arc::clone(&self.shared);
        let pos = self.tail.get();
        shared.track_read(pos, n);
        let items = ptr::slice_from_raw_parts_mut(shared.window(pos, n), n);
        // SAFETY: the `n` slots hold published items owned by the consumer; they are
        // dropped here once, and the tail moves past them afterwards, also when a drop
        // panics.
        unsafe { mirror::drop_then(items, || self.release(n)) };
    }

    /// Waits for an item and removes it; `None` once every producer is gone and every item
    /// has been read.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u32>(16).unwrap();
    /// std::thread::spawn(move || producer.push(5).unwrap());
    /// assert_eq!(consumer.pop_blocking(), Some(5));
    /// assert_eq!(consumer.pop_blocking(), None); // the producer is gone
    /// ```
    pub fn pop_blocking(&mut self) -> Option<T> {
        self.pop_until(None).ok()
    }

    /// Waits at most `timeout` for an item and removes it.
    ///
    /// # Errors
    ///
    /// [`PopTimeoutError::Timeout`] if nothing arrived in time,
    /// [`PopTimeoutError::Disconnected`] if every producer is gone and the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use picoring::PopTimeoutError;
    ///
    /// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(consumer.pop_timeout(timeout), Err(PopTimeoutError::Timeout));
    /// drop(producer);
    /// assert_eq!(consumer.pop_timeout(timeout), Err(PopTimeoutError::Disconnected));
    /// ```
    pub fn pop_timeout(&mut self, timeout: Duration) -> Result<T, PopTimeoutError> {
        self.pop_until(Some(Instant::now() + timeout))
    }

    fn pop_until(&mut self, deadline: Option<Instant>) -> Result<T, PopTimeoutError> {
        if let Some(value) = self.pop() {
            return Ok(value);
        }
        let shared = Arc::clone(&self.shared);
        PopTimeoutError::from_wait(
            shared
                .rare
                .readable
                .wait(shared.threads(), deadline, || self.items(1)),
        )?;
        Ok(self.pop().expect("an item was readable"))
    }

    /// Waits until at least `min(n, capacity)` items are readable, or fewer are and a given
    /// up reservation follows them, or every producer is gone; then returns the readable
    /// items as one slice (possibly fewer than `n`, or none).
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = picoring::create_mpsc::<u8>(4096).unwrap();
    /// std::thread::spawn(move || {
    ///     producer.push_slice(b"he");
    ///     producer.push_slice(b"llo");
    /// });
    /// assert!(consumer.readable_slice_blocking(5).starts_with(b"hello"));
    /// ```
    pub fn readable_slice_blocking(&self, n: usize) -> &[T] {
        let wanted = n.min(self.capacity());
        self.shared
            .rare
            .readable
            .wait(self.shared.threads(), None, || self.items(wanted));
        self.readable_slice()
    }

    /// `Some(true)` if `wanted` items are readable (or as many as can be before a hole),
    /// `Some(false)` if fewer are and every producer is gone, `None` to keep waiting.
    fn items(&self, wanted: usize) -> Option<bool> {
        if self.ready.get() >= wanted {
            return Some(true);
        }
        let (ready, end) = self.refresh(wanted);
        if ready >= wanted || end == End::Hole {
            return Some(true);
        }
        // Acquire: pairs with the Release decrement in `MpscProducer::drop`.
        if self.shared.rare.producers.load(Ordering::Acquire) == 0 {
            // Everything published before the producers left is visible now.
            return Some(self.refresh(wanted).0 >= wanted.min(1));
        }
        None
    }

    /// Removes the oldest item once one is readable, without blocking the thread.
    ///
    /// The future resolves to `None` once every producer is gone and every item was read.
    /// See [`MpscProducer::push_async`](super::MpscProducer::push_async) for an example.
    pub fn pop_async(&mut self) -> PopFuture<'_, T> {
        PopFuture {
            consumer: self,
            key: None,
        }
    }
}

impl<T> Drop for MpscConsumer<T> {
    fn drop(&mut self) {
        /// Tells the producers, also if dropping an item panics.
        struct Gone<'a, T>(&'a Shared<T>);
        impl<T> Drop for Gone<'_, T> {
            fn drop(&mut self) {
                // Release: pairs with the producers' Acquire in `is_disconnected`.
                self.0.rare.consumer_gone.store(true, Ordering::Release);
                self.0.rare.writable.notify();
            }
        }
        let shared = Arc::clone(&self.shared);
        let _gone = Gone(&shared);
        // The tail may be inside a run: drop the verified items here, which leaves it at a
        // run boundary for `Shared`'s drop to take over from.
        let ready = self.ready.get();
        self.drop_front(ready);
    }
}

impl<T> fmt::Debug for MpscConsumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpscConsumer")
            .field("capacity", &self.capacity())
            .field("readable", &self.ready.get())
            .finish()
    }
}

#[cold]
#[track_caller]
fn advance_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot advance the tail by {n} items: {len} are readable")
}

/// The future of [`MpscConsumer::pop_async`].
#[must_use = "futures do nothing unless polled"]
pub struct PopFuture<'a, T> {
    consumer: &'a mut MpscConsumer<T>,
    key: Option<Key>,
}

impl<T> Future for PopFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let shared = Arc::clone(&this.consumer.shared);
        let ready = shared
            .rare
            .readable
            .poll(cx, &mut this.key, || this.consumer.items(1));
        ready.map(|_| this.consumer.pop())
    }
}

impl<T> Drop for PopFuture<'_, T> {
    fn drop(&mut self) {
        self.consumer.shared.rare.readable.cancel(&mut self.key);
    }
}

impl<T> fmt::Debug for PopFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PopFuture").finish_non_exhaustive()
    }
}
