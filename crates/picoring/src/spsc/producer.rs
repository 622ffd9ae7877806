//! [`Producer`]: the writing half.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{Shared, THREADS};
use crate::chunk::WriteChunk;
use crate::mirror::Geometry;
use crate::sync::Key;
use crate::sync::prim::{Arc, Ordering};
use crate::{PopTimeoutError, PushTimeoutError};

/// The writing half of a [`PicoSPSC`](super::PicoSPSC).
///
/// It is [`Send`] when `T` is, so it can move to another thread, but it is neither `Sync`
/// nor `Clone`: there is one producer by construction.
///
/// ```compile_fail
/// fn shared_between_threads<T: Sync>(_: &T) {}
/// let (producer, _consumer) = picoring::PicoSPSC::<u8>::new(8).unwrap().split();
/// shared_between_threads(&producer); // error: `Producer` is not `Sync`
/// ```
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
    /// The head, which only this half writes.
    head: usize,
    /// The tail as last seen; the real one is at or after it.
    tail: usize,
    /// The ring's geometry, copied here so that it stays in registers.
    geo: Geometry<T>,
    /// Keeps the producer from being `Sync`: one thread at a time pushes.
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: the producer only moves `T`s into the ring, for the consumer thread to take out;
// it never reads them, so `T: Send` suffices, as for a channel.
unsafe impl<T: Send> Send for Producer<T> {}

impl<T> Producer<T> {
    /// The writing half of a fresh queue.
    pub(super) fn new(shared: Arc<Shared<T>>) -> Producer<T> {
        Producer {
            geo: shared.mirror.geometry(),
            shared,
            head: 0,
            tail: 0,
            _not_sync: PhantomData,
        }
    }

    /// The number of free slots, counted from the consumer's latest published tail.
    ///
    /// The consumer may free more at any time, so this is a lower bound.
    pub fn free_len(&self) -> usize {
        let tail = self.shared.tail.load(Ordering::Acquire);
        self.geo.capacity() - self.geo.distance(tail, self.head)
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.geo.capacity()
    }

    /// Whether the consumer is gone: nothing pushed from now on will be read.
    pub fn is_abandoned(&self) -> bool {
        self.shared.rare.consumer_gone.load(Ordering::Acquire)
    }

    /// The number of free slots, reloading the tail only when the cached one says fewer
    /// than `wanted`.
    #[inline]
    fn free_for(&mut self, wanted: usize) -> usize {
        let geo = self.geo;
        let free = geo.capacity() - geo.distance(self.tail, self.head);
        if free >= wanted {
            return free;
        }
        self.tail = self.shared.tail.load(Ordering::Acquire);
        geo.capacity() - geo.distance(self.tail, self.head)
    }

    /// Publishes the `n` slots from `head` for the consumer and wakes it if it sleeps.
    #[inline]
    fn publish(&mut self, n: usize) {
        self.publish_head(self.geo.add(self.head, n));
    }

    /// Stores `head` as the new head for the consumer and wakes it if it sleeps.
    #[inline(always)]
    fn publish_head(&mut self, head: usize) {
        self.head = head;
        self.shared.head.store(head, Ordering::Release);
        self.shared.rare.readable.notify();
    }

    /// Appends `value`, or gives it back if the queue is full.
    ///
    /// # Errors
    ///
    /// `Err(value)` when every slot is taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, _consumer) = picoring::create_spsc::<u64>(1).unwrap();
    /// let cap = producer.capacity() as u64;
    /// for i in 0..cap {
    ///     producer.push(i).unwrap();
    /// }
    /// assert_eq!(producer.push(cap), Err(cap));
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), T> {
        let geo = self.geo;
        if geo.is_full(self.tail, self.head) {
            self.tail = self.shared.tail.load(Ordering::Acquire);
            if geo.is_full(self.tail, self.head) {
                return Err(value);
            }
        }
        let slot = geo.window(self.head, 1);
        // SAFETY: the slot at `head` is free: the consumer does not read it until `head`
        // moves past it, which happens below, after the write.
        unsafe { slot.write(value) };
        // SAFETY: one slot, just written, not yet published.
        unsafe { self.shared.mirror.written(self.head, 1) };
        // The free slots from this one on are this producer's to write next.
        let free = geo.capacity() - geo.distance(self.tail, self.head);
        geo.prefetch_after_one(slot, free, true);
        self.publish_head(geo.next(self.head));
        Ok(())
    }

    /// Lends every free slot, as one contiguous chunk, to be written in place; each commit
    /// publishes to the consumer.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = picoring::create_spsc::<u16>(64).unwrap();
    /// let n = producer.write_chunk().fill_from_iter(0..5);
    /// assert_eq!(n, 5);
    /// assert_eq!(consumer.readable_slice(), &[0, 1, 2, 3, 4]);
    /// ```
    pub fn write_chunk(&mut self) -> WriteChunk<'_, T> {
        let free = self.free_for(usize::MAX);
        let shared = &*self.shared;
        WriteChunk::shared(
            &shared.mirror,
            &mut self.head,
            free,
            &shared.head,
            &shared.rare.readable,
        )
    }

    /// Waits until a slot is free, then appends `value`.
    ///
    /// # Errors
    ///
    /// `Err(value)` if the consumer is gone (before or while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, mut consumer) = picoring::create_spsc::<u32>(1).unwrap();
    /// let cap = producer.capacity() as u32;
    /// let writer = std::thread::spawn(move || {
    ///     for i in 0..cap * 4 {
    ///         producer.push_blocking(i).unwrap();
    ///     }
    /// });
    /// for i in 0..cap * 4 {
    ///     assert_eq!(consumer.pop_blocking(), Some(i));
    /// }
    /// writer.join().unwrap();
    /// ```
    pub fn push_blocking(&mut self, value: T) -> Result<(), T> {
        self.push_until(value, None)
            .map_err(PushTimeoutError::into_inner)
    }

    /// Waits at most `timeout` for a free slot, then appends `value`.
    ///
    /// # Errors
    ///
    /// [`PushTimeoutError::Timeout`] if the queue stayed full,
    /// [`PushTimeoutError::Disconnected`] if the consumer is gone; both hold `value`.
    pub fn push_timeout(&mut self, value: T, timeout: Duration) -> Result<(), PushTimeoutError<T>> {
        self.push_until(value, Some(Instant::now() + timeout))
    }

    fn push_until(
        &mut self,
        value: T,
        deadline: Option<Instant>,
    ) -> Result<(), PushTimeoutError<T>> {
        let value = match self.push(value) {
            Ok(()) => return Ok(()),
            Err(value) => value,
        };
        let shared = Arc::clone(&self.shared);
        let room = shared.rare.writable.wait(THREADS, deadline, || self.room());
        match PopTimeoutError::from_wait(room) {
            Ok(()) => self
                .push(value)
                .map_err(|_| unreachable!("a slot was free")),
            Err(why) => Err(PushTimeoutError::holding(why, value)),
        }
    }

    /// `Some(true)` if a slot is free, `Some(false)` if the consumer is gone, `None` to
    /// keep waiting.
    fn room(&mut self) -> Option<bool> {
        if self.shared.rare.consumer_gone.load(Ordering::Acquire) {
            Some(false)
        } else if self.free_for(1) > 0 {
            Some(true)
        } else {
            None
        }
    }

    /// Appends `value` once a slot is free, without blocking the thread.
    ///
    /// The future resolves to `Err(value)` if the consumer is gone. Dropping it before it
    /// resolves drops `value` and pushes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
    /// #         std::thread::yield_now();
    /// #     }
    /// # }
    /// let (mut producer, mut consumer) = picoring::create_spsc::<u8>(16).unwrap();
    /// block_on(producer.push_async(7)).unwrap();
    /// assert_eq!(block_on(consumer.pop_async()), Some(7));
    /// ```
    pub fn push_async(&mut self, value: T) -> PushFuture<'_, T> {
        PushFuture {
            producer: self,
            value: Some(value),
            key: None,
        }
    }
}

impl<T: Copy> Producer<T> {
    /// Copies as many items of `values` as fit, with one copy, and publishes them.
    /// Returns the number copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut producer, consumer) = picoring::create_spsc::<u8>(4096).unwrap();
    /// assert_eq!(producer.push_slice(b"hello"), 5);
    /// assert_eq!(consumer.readable_slice(), b"hello");
    /// ```
    #[inline]
    pub fn push_slice(&mut self, values: &[T]) -> usize {
        let free = self.free_for(values.len());
        let n = values.len().min(free);
        if n == 0 {
            return 0;
        }
        let mirror = &self.shared.mirror;
        let dst = self.geo.window(self.head, n);
        // SAFETY: the `n` slots from `head` are free (one window, `n <= capacity`), the
        // consumer does not read them before `head` moves, and `values` is borrowed from
        // elsewhere so it cannot overlap them; `T: Copy` needs no drop.
        unsafe { ptr::copy_nonoverlapping(values.as_ptr(), dst, n) };
        // SAFETY: the window was just written and is not yet published.
        unsafe { mirror.written(self.head, n) };
        self.publish(n);
        // A next batch of the same size goes right after this one, into slots the consumer
        // is done with: take their lines now rather than while copying.
        self.geo
            .prefetch_batch(dst.wrapping_add(n), n, free - n, true);
        n
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.shared
            .rare
            .producer_gone
            .store(true, Ordering::Release);
        self.shared.rare.readable.notify();
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("free_len", &self.free_len())
            .field("is_abandoned", &self.is_abandoned())
            .finish()
    }
}

/// The future of [`Producer::push_async`].
#[must_use = "futures do nothing unless polled"]
pub struct PushFuture<'a, T> {
    producer: &'a mut Producer<T>,
    value: Option<T>,
    key: Option<Key>,
}

// The value is moved, never pinned.
impl<T> Unpin for PushFuture<'_, T> {}

impl<T> Future for PushFuture<'_, T> {
    type Output = Result<(), T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.get_mut();
        let shared = Arc::clone(&this.producer.shared);
        let room = shared
            .rare
            .writable
            .poll(cx, &mut this.key, || this.producer.room());
        room.map(|room| {
            let value = this
                .value
                .take()
                .expect("`PushFuture` polled after completion");
            if room {
                this.producer.push(value)
            } else {
                Err(value)
            }
        })
    }
}

impl<T> Drop for PushFuture<'_, T> {
    fn drop(&mut self) {
        self.producer.shared.rare.writable.cancel(&mut self.key);
    }
}

impl<T> fmt::Debug for PushFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushFuture")
            .field("done", &self.value.is_none())
            .finish()
    }
}

// Crate-internal hooks for the byte pipe.

impl<T> Producer<T> {
    /// Marks the producer gone, as dropping it does, and wakes the consumer: once it has
    /// read what was published, it sees the end of the stream. Calling it again is harmless.
    pub(crate) fn close(&mut self) {
        self.shared
            .rare
            .producer_gone
            .store(true, Ordering::Release);
        self.shared.rare.readable.notify();
    }

    /// The number of free slots, reloading the tail only when the cached one says fewer
    /// than `wanted`.
    #[inline]
    pub(crate) fn vacant(&mut self, wanted: usize) -> usize {
        self.free_for(wanted)
    }

    /// Blocks until a slot is free (`true`) or the consumer is gone (`false`).
    pub(crate) fn wait_vacant(&mut self) -> bool {
        let shared = Arc::clone(&self.shared);
        shared.rare.writable.wait(THREADS, None, || self.room()) == Some(true)
    }

    /// The async form of [`Producer::wait_vacant`]: `Pending` with the task's waker
    /// registered under `key` until a slot is free or the consumer is gone.
    ///
    /// The caller cancels `key` with [`Producer::cancel`] when it stops polling.
    #[cfg_attr(
        not(any(feature = "tokio", feature = "futures-io")),
        allow(dead_code, reason = "only the pipe's async traits poll")
    )]
    pub(crate) fn poll_vacant(
        &mut self,
        cx: &mut Context<'_>,
        key: &mut Option<Key>,
    ) -> Poll<bool> {
        let shared = Arc::clone(&self.shared);
        shared.rare.writable.poll(cx, key, || self.room())
    }

    /// Removes a registration made by [`Producer::poll_vacant`], if it is still there.
    pub(crate) fn cancel(&self, key: &mut Option<Key>) {
        self.shared.rare.writable.cancel(key);
    }
}

impl Producer<u8> {
    /// Every free byte, as one slice that starts at the head, even across the physical end
    /// of the ring; [`Producer::commit_bytes`] publishes a prefix of it.
    ///
    /// The tail is reloaded only when the cached one leaves fewer than `wanted` bytes.
    /// The bytes are initialised, with unspecified values: the backends hand out zeroed
    /// memory and bytes are only ever overwritten with bytes.
    #[inline]
    pub(crate) fn vacant_bytes(&mut self, wanted: usize) -> &mut [u8] {
        let free = self.free_for(wanted);
        let start = self.shared.mirror.window(self.head, free);
        // SAFETY: the `free` bytes from `head` are free slots, which the consumer does not
        // read before `head` moves past them, and moving it takes `&mut self`, so not while
        // this slice lives. `free <= capacity`: no byte appears twice. Every byte holds a
        // value: fresh mappings (and heap blocks) are zeroed and this queue writes bytes
        // only. A recycled mapping holds what its previous ring wrote, which for an element
        // type with padding is a byte the abstract machine calls uninitialised; that memory
        // comes from the OS and reaches this ring through the opaque recycling cache.
        unsafe { std::slice::from_raw_parts_mut(start, free) }
    }

    /// Publishes the first `n` bytes of [`Producer::vacant_bytes`] to the consumer.
    ///
    /// # Panics
    ///
    /// If fewer than `n` bytes are free; nothing is published then.
    #[inline]
    #[track_caller]
    pub(crate) fn commit_bytes(&mut self, n: usize) {
        let free = self.free_for(n);
        assert!(n <= free, "cannot commit {n} bytes: {free} are free");
        // SAFETY: `n <= free <= capacity`; the window is this producer's, no slice of it
        // outlives the `&mut self` of `vacant_bytes`, and it is not yet published.
        unsafe { self.shared.mirror.written(self.head, n) };
        self.publish(n);
    }
}
