//! [`Consumer`]: the reading half.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{Shared, THREADS};
use crate::PopTimeoutError;
use crate::mirror::{self, Geometry};
use crate::sync::Key;
use crate::sync::prim::{Arc, Ordering};

/// The reading half of a [`PicoSPSC`](super::PicoSPSC).
///
/// It is [`Send`] when `T` is, but neither `Sync` nor `Clone`. A slice from
/// [`readable_slice`](Consumer::readable_slice) borrows the consumer, so the slots it shows
/// cannot be handed back to the producer while it is alive:
///
/// ```compile_fail
/// let (mut producer, mut consumer) = picoring::create_spsc::<u8>(16).unwrap();
/// producer.push(1).unwrap();
/// let slice = consumer.readable_slice();
/// consumer.advance_tail(1); // error: `consumer` is still borrowed by `slice`
/// assert_eq!(slice[0], 1);
/// ```
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>(_: &T) {}
/// let (_producer, consumer) = picoring::PicoSPSC::<u8>::new(8).unwrap().split();
/// shared_between_threads(&consumer); // error: `Consumer` is not `Sync`
/// ```
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
    /// The tail, which only this half writes.
    tail: usize,
    /// The head as last seen; the real one is at or after it.
    head: Cell<usize>,
    /// The ring's geometry, copied here so that it stays in registers.
    geo: Geometry<T>,
}

// SAFETY: the consumer takes `T`s that the producer thread moved in, and lends `&T`s only
// to its own thread, so `T: Send` suffices. The `Cell` keeps it from being `Sync`.
unsafe impl<T: Send> Send for Consumer<T> {}

impl<T> Consumer<T> {
    /// The reading half of a fresh queue.
    pub(super) fn new(shared: Arc<Shared<T>>) -> Consumer<T> {
        Consumer {
            geo: shared.mirror.geometry(),
            shared,
            tail: 0,
            head: Cell::new(0),
        }
    }

    /// The number of readable items, reloading the head only when the cached one says
    /// fewer than `wanted`.
    #[inline]
    fn len_for(&self, wanted: usize) -> usize {
        let geo = self.geo;
        let len = geo.distance(self.tail, self.head.get());
        if len >= wanted {
            return len;
        }
        self.head.set(self.shared.head.load(Ordering::Acquire));
        geo.distance(self.tail, self.head.get())
    }

    /// Hands the `n` slots from `tail` back to the producer and wakes it if it sleeps.
    #[inline]
    fn release(&mut self, n: usize) {
        self.release_to(self.geo.add(self.tail, n));
    }

    /// Stores `tail` as the new tail for the producer and wakes it if it sleeps.
    #[inline(always)]
    fn release_to(&mut self, tail: usize) {
        self.tail = tail;
        self.shared.tail.store(tail, Ordering::Release);
        self.shared.rare.writable.notify();
    }

    /// The number of readable items, as of the producer's latest publication.
    pub fn len(&self) -> usize {
        self.len_for(usize::MAX)
    }

    /// Whether no item is readable now.
    pub fn is_empty(&self) -> bool {
        self.len_for(1) == 0
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.geo.capacity()
    }

    /// Whether the producer is gone (dropped, or the pipe closed). Items it pushed before
    /// may still be readable.
    pub fn is_abandoned(&self) -> bool {
        self.shared.rare.producer_gone.load(Ordering::Acquire)
    }

    /// Removes and returns the oldest item, or `None` if none is readable.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = picoring::create_spsc::<String>(8).unwrap();
    /// producer.push("a".to_string()).unwrap();
    /// assert_eq!(consumer.pop().as_deref(), Some("a"));
    /// assert_eq!(consumer.pop(), None);
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let geo = self.geo;
        if self.tail == self.head.get() {
            self.head.set(self.shared.head.load(Ordering::Acquire));
            if self.tail == self.head.get() {
                return None;
            }
        }
        let slot = geo.window(self.tail, 1);
        // SAFETY: the slot at `tail` holds a published item; it is read exactly once,
        // because the tail moves past it before anyone can look again.
        let value = unsafe { slot.read() };
        // The readable slots from this one on are this consumer's to read next.
        geo.prefetch_after_one(slot, geo.distance(self.tail, self.head.get()), false);
        self.release_to(geo.next(self.tail));
        Some(value)
    }

    /// Every readable item, oldest first, as one slice, even across the physical end of the
    /// ring.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = picoring::create_spsc::<u32>(1).unwrap();
    /// let cap = consumer.capacity();
    /// // Move the indices near the physical end, then wrap.
    /// let filler = vec![0; cap - 1];
    /// producer.push_slice(&filler);
    /// consumer.advance_tail(cap - 1);
    /// producer.push_slice(&[1, 2, 3]);
    /// assert_eq!(consumer.readable_slice(), &[1, 2, 3]);
    /// ```
    pub fn readable_slice(&self) -> &[T] {
        let len = self.len_for(usize::MAX);
        let start = self.geo.window(self.tail, len);
        // SAFETY: the `len` slots from `tail` hold published items (Acquire above), which
        // the producer does not touch until the tail moves, and moving it takes `&mut self`,
        // so not while this slice lives. `len <= capacity`: no slot appears twice.
        unsafe { std::slice::from_raw_parts(start, len) }
    }

    /// Drops the `n` oldest items and hands their slots back to the producer.
    ///
    /// # Panics
    ///
    /// If `n` is more than [`len()`](Consumer::len); nothing is dropped then.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = picoring::create_spsc::<u8>(16).unwrap();
    /// producer.push_slice(b"abc");
    /// consumer.advance_tail(2);
    /// assert_eq!(consumer.readable_slice(), b"c");
    /// ```
    #[track_caller]
    pub fn advance_tail(&mut self, n: usize) {
        let len = self.len_for(n);
        if n > len {
            advance_out_of_bounds(n, len);
        }
        let items = ptr::slice_from_raw_parts_mut(self.geo.window(self.tail, n), n);
        // SAFETY: the `n` slots hold published items owned by the consumer; they are
        // dropped here once, and the tail moves past them afterwards, also when a drop
        // panics.
        unsafe { mirror::drop_then(items, || self.release(n)) };
    }

    /// Waits for an item and removes it; `None` once the producer is gone and every item
    /// has been read.
    pub fn pop_blocking(&mut self) -> Option<T> {
        self.pop_until(None).ok()
    }

    /// Waits at most `timeout` for an item and removes it.
    ///
    /// # Errors
    ///
    /// [`PopTimeoutError::Timeout`] if nothing arrived in time,
    /// [`PopTimeoutError::Disconnected`] if the producer is gone and the queue is empty.
    pub fn pop_timeout(&mut self, timeout: Duration) -> Result<T, PopTimeoutError> {
        self.pop_until(Some(Instant::now() + timeout))
    }

    fn pop_until(&mut self, deadline: Option<Instant>) -> Result<T, PopTimeoutError> {
        if let Some(value) = self.pop() {
            return Ok(value);
        }
        PopTimeoutError::from_wait(
            self.shared
                .rare
                .readable
                .wait(THREADS, deadline, || self.items(1)),
        )?;
        Ok(self.pop().expect("an item was readable"))
    }

    /// Waits until at least `min(n, capacity)` items are readable, or the producer is gone,
    /// and returns them as one slice (then possibly fewer, or none).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = picoring::create_spsc::<u8>(4096).unwrap();
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
            .wait(THREADS, None, || self.items(wanted));
        self.readable_slice()
    }

    /// `Some(true)` if `wanted` items are readable, `Some(false)` if fewer are and the
    /// producer is gone, `None` to keep waiting.
    fn items(&self, wanted: usize) -> Option<bool> {
        if self.len_for(wanted) >= wanted {
            return Some(true);
        }
        if self.shared.rare.producer_gone.load(Ordering::Acquire) {
            // Everything published before the producer left is visible now.
            return Some(self.len_for(wanted) >= wanted);
        }
        None
    }

    /// Removes the oldest item once one is readable, without blocking the thread.
    ///
    /// The future resolves to `None` once the producer is gone and every item was read.
    /// See [`Producer::push_async`](super::Producer::push_async) for an example.
    pub fn pop_async(&mut self) -> PopFuture<'_, T> {
        PopFuture {
            consumer: self,
            key: None,
        }
    }
}

impl<T: Copy> Consumer<T> {
    /// Copies as many of the oldest items as fit into `dst`, with one copy, and removes
    /// them. Returns the number copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = picoring::create_spsc::<u8>(4096).unwrap();
    /// producer.push_slice(b"hello");
    /// let mut buf = [0; 3];
    /// assert_eq!(consumer.pop_slice(&mut buf), 3);
    /// assert_eq!(&buf, b"hel");
    /// ```
    pub fn pop_slice(&mut self, dst: &mut [T]) -> usize {
        let n = dst.len().min(self.len_for(dst.len()));
        if n == 0 {
            return 0;
        }
        // SAFETY: the `n` slots from `tail` hold published items (one window); `dst` is a
        // unique borrow from elsewhere, so they do not overlap; `T: Copy`.
        unsafe { ptr::copy_nonoverlapping(self.geo.window(self.tail, n), dst.as_mut_ptr(), n) };
        self.release(n);
        n
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.shared
            .rare
            .consumer_gone
            .store(true, Ordering::Release);
        self.shared.rare.writable.notify();
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("is_abandoned", &self.is_abandoned())
            .finish()
    }
}

/// The future of [`Consumer::pop_async`].
#[must_use = "futures do nothing unless polled"]
pub struct PopFuture<'a, T> {
    consumer: &'a mut Consumer<T>,
    key: Option<Key>,
}

impl<T> Future for PopFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let consumer = &*this.consumer;
        let ready = consumer
            .shared
            .rare
            .readable
            .poll(cx, &mut this.key, || consumer.items(1));
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

// Crate-internal hooks for the byte pipe.

impl<T> Consumer<T> {
    /// Whether the producer is gone and every item it published has been read: nothing
    /// will ever be readable again.
    pub(crate) fn is_finished(&self) -> bool {
        self.items(1) == Some(false)
    }

    /// The async form of [`Consumer::readable_slice_blocking`] for one item: `Pending`
    /// with the task's waker registered under `key` until an item is readable (`true`) or
    /// the producer is gone and everything was read (`false`).
    ///
    /// The caller cancels `key` with [`Consumer::cancel`] when it stops polling.
    #[cfg_attr(
        not(any(feature = "tokio", feature = "futures-io")),
        allow(dead_code, reason = "only the pipe's async traits poll")
    )]
    pub(crate) fn poll_items(&mut self, cx: &mut Context<'_>, key: &mut Option<Key>) -> Poll<bool> {
        let shared = Arc::clone(&self.shared);
        shared.rare.readable.poll(cx, key, || self.items(1))
    }

    /// Removes a registration made by [`Consumer::poll_items`], if it is still there.
    pub(crate) fn cancel(&self, key: &mut Option<Key>) {
        self.shared.rare.readable.cancel(key);
    }
}

#[cold]
#[track_caller]
fn advance_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot advance the tail by {n} items: the queue holds {len}")
}
