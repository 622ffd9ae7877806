//! A wait-free single-producer single-consumer queue: [`PicoSPSC`], split into a
//! [`Producer`] and a [`Consumer`].
//!
//! # Protocol
//!
//! ```text
//!              tail (written by the consumer)     head (written by the producer)
//!                 |                                  |
//!   ... free ... [ item | item | item | ... | item ] ... free ...
//! ```
//!
//! Positions are counters in `0..2 * capacity` (see the mirror core), so a full ring and an
//! empty one differ and every slot is usable. The producer writes items into free slots,
//! then publishes `head` with a Release store; the consumer reads `head` with an Acquire
//! load, reads the items, then publishes `tail` with a Release store, which hands the slots
//! back. Each side keeps a private copy of the other's index and reloads the shared one only
//! when its copy says full (producer) or empty (consumer), so in a busy queue neither side
//! touches the other's cache line on every item. The two indices live on separate
//! 128-byte lines.
//!
//! Each side also asks the processor for the slots it will touch next, among those it owns:
//! a push or pop of one item fetches the cache line 1 KiB on (free slots for the producer,
//! readable ones for the consumer), and `push_slice` takes the lines of a next batch of the
//! same size for writing once it has published. A line is never fetched while the other
//! side may still use it; the hand-off of each line between the cores then happens before
//! the line is needed rather than while a side waits for it.
//!
//! Waiting (`*_blocking`, `*_timeout`, `*_async`) spins briefly, yields, then sleeps until
//! the peer publishes; a peer that drops its half wakes the sleeper too.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::chunk::WriteChunk;
use crate::mirror::{self, Geometry, Mirror};
use crate::sync::prim::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::sync::{CachePadded, Event, Key};
use crate::{Error, PopTimeoutError, PushTimeoutError};

/// The state both halves share.
struct Shared<T> {
    /// The next position the producer writes; written by the producer only.
    head: CachePadded<AtomicUsize>,
    /// The oldest item's position; written by the consumer only.
    tail: CachePadded<AtomicUsize>,
    /// Read on every publish, written only by sleepers and by `Drop`.
    rare: CachePadded<Rare>,
    mirror: Mirror<T>,
}

/// Fields that change rarely: who is gone, and who sleeps.
struct Rare {
    producer_gone: AtomicBool,
    consumer_gone: AtomicBool,
    /// The consumer sleeps here until an item is published.
    readable: Event,
    /// The producer sleeps here until a slot is freed.
    writable: Event,
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both halves are gone: the items between tail and head are dropped here, once.
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Relaxed);
        let len = self.mirror.distance(tail, head);
        let items = ptr::slice_from_raw_parts_mut(self.mirror.window(tail, len), len);
        // SAFETY: the last owner has exclusive access; the `len` slots from `tail` hold
        // initialised items that nobody will read again.
        unsafe { ptr::drop_in_place(items) };
    }
}

/// A bounded queue for one producer thread and one consumer thread, on mirrored memory.
///
/// Create it, then [`split()`](PicoSPSC::split) it into a [`Producer`] and a [`Consumer`],
/// each of which can move to its own thread. The consumer sees every readable item as one
/// slice, even across the physical end of the ring, and the producer every free slot.
///
/// # Examples
///
/// The snippet this crate's API grew from, with the halves bound `mut`:
///
/// ```
/// use picoring::PicoSPSC;
/// use std::thread;
///
/// let (mut producer, mut consumer) = PicoSPSC::<u32>::new(65536).unwrap().split();
///
/// let writer = thread::spawn(move || {
///     producer.push(42).unwrap();
///     producer.push_slice(&[10, 20, 30]);
/// });
/// let reader = thread::spawn(move || {
///     let mut received = Vec::new();
///     while received.len() < 4 {
///         if let Some(val) = consumer.pop() {
///             received.push(val);
///         }
///         let slice = consumer.readable_slice();
///         if !slice.is_empty() {
///             received.extend_from_slice(slice);
///             consumer.advance_tail(slice.len());
///         }
///     }
///     received
/// });
/// writer.join().unwrap();
/// assert_eq!(reader.join().unwrap(), [42, 10, 20, 30]);
/// ```
pub struct PicoSPSC<T> {
    shared: Arc<Shared<T>>,
}

impl<T> PicoSPSC<T> {
    /// Creates a queue with room for at least `capacity` items.
    ///
    /// The capacity is rounded up so that the ring fills whole pages; the halves report it.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroCapacity`] for a capacity of 0, [`Error::CapacityOverflow`] or
    /// [`Error::AlignmentTooLarge`] when no mirror can hold it, [`Error::Map`] when the OS
    /// refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = picoring::PicoSPSC::<u64>::new(1000).unwrap();
    /// let (producer, _consumer) = queue.split();
    /// assert!(producer.free_len() >= 1000);
    /// ```
    pub fn new(capacity: usize) -> Result<PicoSPSC<T>, Error> {
        let mirror = Mirror::with_capacity(capacity)?;
        Ok(PicoSPSC {
            shared: Arc::new(Shared {
                head: CachePadded::new(AtomicUsize::new(0)),
                tail: CachePadded::new(AtomicUsize::new(0)),
                rare: CachePadded::new(Rare {
                    producer_gone: AtomicBool::new(false),
                    consumer_gone: AtomicBool::new(false),
                    readable: Event::new(),
                    writable: Event::new(),
                }),
                mirror,
            }),
        })
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.shared.mirror.capacity()
    }

    /// Splits the queue into its two halves.
    pub fn split(self) -> (Producer<T>, Consumer<T>) {
        let geo = self.shared.mirror.geometry();
        let producer = Producer {
            geo,
            shared: Arc::clone(&self.shared),
            head: 0,
            tail: 0,
            _not_sync: PhantomData,
        };
        let consumer = Consumer {
            geo,
            shared: self.shared,
            tail: 0,
            head: Cell::new(0),
        };
        (producer, consumer)
    }
}

impl<T> fmt::Debug for PicoSPSC<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PicoSPSC")
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Creates a [`PicoSPSC`] with room for at least `capacity` items and splits it.
///
/// # Errors
///
/// As [`PicoSPSC::new`].
///
/// # Examples
///
/// ```
/// let (mut tx, mut rx) = picoring::create_spsc::<&str>(16).unwrap();
/// tx.push("hi").unwrap();
/// assert_eq!(rx.pop(), Some("hi"));
/// ```
pub fn create_spsc<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), Error> {
    Ok(PicoSPSC::new(capacity)?.split())
}

/// The writing half of a [`PicoSPSC`].
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
        let room = shared.rare.writable.wait(deadline, || self.room());
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

/// The reading half of a [`PicoSPSC`].
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
        PopTimeoutError::from_wait(self.shared.rare.readable.wait(deadline, || self.items(1)))?;
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
        self.shared.rare.readable.wait(None, || self.items(wanted));
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
    /// See [`Producer::push_async`] for an example.
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

#[cold]
#[track_caller]
fn advance_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot advance the tail by {n} items: the queue holds {len}")
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
        shared.rare.writable.wait(None, || self.room()) == Some(true)
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
