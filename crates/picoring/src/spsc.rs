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

use std::fmt;
use std::ptr;

use crate::Error;
use crate::mirror::Mirror;
use crate::sync::prim::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::sync::{CachePadded, Event};

/// The threads that share a queue, as far as waiting is concerned.
const THREADS: usize = 2;

mod consumer;
mod producer;

pub use consumer::{Consumer, PopFuture};
pub use producer::{Producer, PushFuture};

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
        let producer = Producer::new(Arc::clone(&self.shared));
        (producer, Consumer::new(self.shared))
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
