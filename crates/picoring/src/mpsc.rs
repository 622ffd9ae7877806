//! A lock-free multi-producer single-consumer queue: [`PicoMPSC`], split into a cloneable
//! [`MpscProducer`] and one [`MpscConsumer`].
//!
//! # Protocol
//!
//! A producer never waits for another producer. Claiming slots and publishing them are two
//! separate steps, and publication is per run of slots, not a shared "committed up to here"
//! index that producers would have to advance in order:
//!
//! ```text
//!  claim: one CAS moves `head` by n          publish: one Release store into `stamps`
//!
//!  positions   t    t+1  t+2  t+3  t+4  t+5  t+6  t+7       head
//!              |                                               |
//!  slots     [ a0 | a1 | b0 | ?? | ?? | c0 | c1 | c2 ] . . . . free . . .
//!  stamps    [t+2 |    |t+3 |old |    |Ht+8|    |    ]
//!              \_A: 2 items_/ \B/ \_D: claimed,_/ \_C: gave up its_/
//!                                   writing         reservation
//!
//!  consumer: readable_slice() = [a0 a1 b0], one slice even across the physical end;
//!  it stops at D's unpublished run and will skip C's hole without dropping anything.
//! ```
//!
//! * **Claim.** A producer guesses `head` (where its handle's last claim ended), reads a
//!   lower bound of the consumer's `tail`, and moves `head` past the `n` slots it wants with
//!   one compare-and-swap; a wrong guess fails it and returns the real `head` to try again
//!   from. Those slots are now its own: nobody else writes them, and the consumer does not
//!   read them until they are published. A claim never waits: if the ring lacks room, it
//!   fails (or claims fewer, for `push_slice`).
//! * **Publish.** The producer writes its items into the mirror (one window), then stores the
//!   position where the run ends into the stamp of the run's first slot with Release. A run
//!   that will never hold items (a dropped [`Reservation`]) is published as a *hole* (`H`).
//! * **Consume.** The consumer loads the stamp at the end of what it has already verified
//!   (Acquire). A stamp that ends after that position is a run published there, and tells
//!   where the next one starts; a stamp left from an earlier lap ends at or before it (`old`),
//!   so the run there is still being written. The consumer extends its readable prefix run
//!   by run until it meets such a run or a hole, and keeps how far it has verified, so asking
//!   again costs nothing. Holes at the front are skipped. It never writes a stamp: the lines
//!   of stamps go from the producers to the consumer and not back. Moving the tail publishes
//!   it with Release, which hands the slots back to the producers.
//!
//! So a producer preempted between claim and publish delays only the consumer's view past
//! its own slots, and only until it runs again; the other producers keep claiming and
//! publishing until the ring is full.
//!
//! Positions are free-running counters: `head` counts every slot ever claimed and `tail`
//! every slot ever handed back, both wrapping at `usize::MAX`. The capacity is a power of
//! two, so a position's slot is its low bits, and its stamp and its window are found with one
//! mask. A counter does not come back to the same value before `usize::MAX` more claims, so a
//! producer delayed between reading `head` and its compare-and-swap cannot be fooled by a
//! `head` that went round (ABA), and a copy of the tail read before a newer `head` is
//! recognised as such (it is ahead of that `head`, or more than a capacity behind it). The
//! producers share a cached copy of the tail next to `head`, and reload the real one only
//! when the copy says the ring is too full.
//!
//! Waiting (`*_blocking`, `*_timeout`, `*_async`) spins briefly, yields, then sleeps until
//! the other side publishes; dropping the last producer, or the consumer, wakes sleepers.
//! While the live handles outnumber the CPUs, a waiter yields instead of spinning: the
//! thread it waits for may be waiting for a CPU.
//!
//! Memory: besides the mirrored slots, one word of stamp per slot, laid out so that
//! neighbouring single items do not share a cache line of stamps (see `stamp_index`).

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use crate::Error;
use crate::mirror::Mirror;
use crate::sync::prim::{Arc, AtomicBool, AtomicUsize, Ordering};
use crate::sync::{CachePadded, Event};

mod consumer;
mod producer;
mod reserve;

pub use consumer::{MpscConsumer, PopFuture};
pub use producer::{MpscProducer, PushFuture};
pub use reserve::Reservation;

/// The flag of a stamp that marks a hole: slots claimed and then given up.
const HOLE: usize = 1;

/// The stamp of a run that ends before position `end`: the end's low 63 bits, and the
/// [`HOLE`] flag.
#[inline(always)]
fn stamp_of(end: usize, hole: bool) -> usize {
    end << 1 | usize::from(hole)
}

/// The stamps are laid out in blocks of this many, one block per as many slots.
const STAMP_BLOCK: usize = 512;

/// Where the stamp of slot `slot` is kept, for a capacity of `mask + 1` slots.
///
/// Within each block of [`STAMP_BLOCK`] slots, the stamp of slot `8 * row + column`
/// (`column < 8`) is kept at `64 * column + row`: the stamps of 8 slots in a row are on 8
/// different cache lines, and those of slots 8 apart are side by side. So producers that
/// publish neighbouring single items, and a consumer that waits for the next one, do not
/// write and read the same line of stamps; and runs of 64 or 512 slots, as batches often
/// are, have their stamps on consecutive lines, which the hardware prefetcher follows. A
/// smaller ring keeps its stamps in slot order.
#[inline]
fn stamp_index(slot: usize, mask: usize) -> usize {
    if mask < STAMP_BLOCK - 1 {
        return slot;
    }
    let rows = STAMP_BLOCK / 8;
    (slot & !(STAMP_BLOCK - 1)) | ((slot & 7) * rows) | ((slot >> 3) & (rows - 1))
}

/// Claims: written by every producer (the compare-and-swap), read by nobody else.
struct Claim {
    /// The next position to claim.
    head: AtomicUsize,
    /// A tail that the consumer published at some point: a lower bound of the real one,
    /// shared by the producers so that they seldom read the consumer's line.
    tail_seen: AtomicUsize,
}

/// Fields that change rarely: who is gone, and who sleeps.
struct Rare {
    /// Live producer handles; the last one to go marks the queue disconnected.
    producers: AtomicUsize,
    consumer_gone: AtomicBool,
    /// The consumer sleeps here until a run is published or the last producer leaves.
    readable: Event,
    /// Producers sleep here until the consumer frees slots or leaves.
    writable: Event,
}

/// The state every handle shares.
pub(crate) struct Shared<T> {
    claim: CachePadded<Claim>,
    /// The oldest unconsumed position; written by the consumer only.
    tail: CachePadded<AtomicUsize>,
    rare: CachePadded<Rare>,
    /// Per slot: the [`stamp_of`] the last run published there, which starts at that
    /// slot; at first 0, an empty run that ends at position 0.
    stamps: Box<[AtomicUsize]>,
    /// `capacity - 1`: the capacity is a power of two, and a position's slot is
    /// `pos & mask`.
    mask: usize,
    mirror: Mirror<T>,
    /// Under loom, one cell per slot whose accesses loom checks for races, standing in for
    /// the mirrored memory that it cannot see.
    #[cfg(loom)]
    cells: Box<[loom::cell::UnsafeCell<()>]>,
}

impl<T> Shared<T> {
    fn new(capacity: usize) -> Result<Shared<T>, Error> {
        // A power of two of slots fills whole pages if enough slots do, since the page size
        // is a power of two too; 0 is left for the mirror to refuse.
        let min = if capacity == 0 {
            0
        } else {
            capacity
                .checked_next_power_of_two()
                .ok_or(Error::CapacityOverflow)?
        };
        let mirror = Mirror::<T>::with_capacity(min)?;
        let cap = mirror.capacity();
        debug_assert!(cap.is_power_of_two());
        let mut stamps = Vec::new();
        stamps.try_reserve_exact(cap).map_err(|_| Error::Map {
            call: "alloc",
            source: std::io::ErrorKind::OutOfMemory.into(),
        })?;
        // 0 is an empty run ending at position 0: from an earlier lap for every slot's
        // first position (`run_at` finds a distance of 0 or more than the capacity).
        stamps.extend((0..cap).map(|_| AtomicUsize::new(0)));
        Ok(Shared {
            claim: CachePadded::new(Claim {
                head: AtomicUsize::new(0),
                tail_seen: AtomicUsize::new(0),
            }),
            tail: CachePadded::new(AtomicUsize::new(0)),
            rare: CachePadded::new(Rare {
                producers: AtomicUsize::new(0),
                consumer_gone: AtomicBool::new(false),
                readable: Event::new(),
                writable: Event::new(),
            }),
            stamps: stamps.into_boxed_slice(),
            mask: cap - 1,
            #[cfg(loom)]
            cells: (0..cap).map(|_| loom::cell::UnsafeCell::new(())).collect(),
            mirror,
        })
    }

    #[inline]
    fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The threads that share the queue, as far as waiting is concerned: the live
    /// producer handles and the consumer.
    fn threads(&self) -> usize {
        // Relaxed: a hint for how to wait, not a condition.
        self.rare.producers.load(Ordering::Relaxed) + 1
    }

    /// The stamp of the slot of position `pos`.
    #[inline]
    fn stamp(&self, pos: usize) -> &AtomicUsize {
        let i = stamp_index(pos & self.mask, self.mask);
        // SAFETY: `stamp_index` maps `0..=mask` onto itself, and there are `mask + 1` stamps.
        unsafe { self.stamps.get_unchecked(i) }
    }

    /// The length of the run that stamp `stamp` says was published at position `pos`, or
    /// `None` if that stamp is left from an earlier lap (the run there is not published).
    ///
    /// A stamp from an earlier lap ends at or before `pos`, so its distance to `pos`, in 63
    /// bits, is 0 or more than the capacity, as long as fewer than `2^63 - capacity` slots
    /// were claimed since it was stored: the same bound as for the counters themselves.
    #[inline(always)]
    fn run_at(&self, stamp: usize, pos: usize) -> Option<usize> {
        let n = (stamp >> 1).wrapping_sub(pos) & (usize::MAX >> 1);
        (n.wrapping_sub(1) <= self.mask).then_some(n)
    }

    /// Asks the processor to fetch the stamp of position `pos` into this core's cache, for
    /// reading. A hint: it changes nothing.
    #[inline(always)]
    fn prefetch_stamp(&self, pos: usize) {
        #[cfg(not(loom))]
        crate::mirror::prefetch(self.stamp(pos).as_ptr().cast_const().cast(), false);
        #[cfg(loom)]
        let _ = pos;
    }

    /// The number of positions from `tail` to `head`, if `tail` is at most a capacity
    /// behind `head`; `None` for a `tail` that is ahead of it (read after a newer head).
    #[inline]
    fn len(&self, tail: usize, head: usize) -> Option<usize> {
        let len = head.wrapping_sub(tail);
        (len <= self.mask + 1).then_some(len)
    }

    /// The first of the `n <= capacity` contiguous slots from position `pos`, one window
    /// even across the physical end.
    #[inline]
    fn window(&self, pos: usize, n: usize) -> *mut T {
        self.mirror.slot_window(pos & self.mask, n)
    }

    /// Claims between `min` and `want` slots (as many as are free), with one
    /// compare-and-swap, starting from the guess `next` of where `head` is, which it then
    /// moves past the claimed slots. Returns the position of the first and their number, or
    /// `None` if fewer than `min` are free.
    ///
    /// `1 <= min <= want`.
    #[inline]
    fn claim(&self, next: &AtomicUsize, min: usize, want: usize) -> Option<(usize, usize)> {
        debug_assert!(1 <= min && min <= want);
        let cap = self.capacity();
        let claim = &*self.claim;
        // A guess, not a load of `head`: reading `head` right before the locked
        // compare-and-swap on it made every claim several times slower on x86-64, even with
        // one producer. A wrong guess costs one failed compare-and-swap, which returns the
        // real `head`. The guess is never ahead of `head`, which only grows, so it never
        // makes the ring look fuller than it is.
        // Relaxed: a hint; `head` orders nothing, items are published through the stamps.
        let mut head = next.load(Ordering::Relaxed);
        let mut guessed = true;
        let mut contended = 0;
        loop {
            // Acquire: pairs with the Release store below, which passes on the Acquire load
            // of the consumer's tail: the consumer's reads of the slots it handed back
            // happen before anything is written into them again.
            let seen = claim.tail_seen.load(Ordering::Acquire);
            let mut len = self.len(seen, head);
            if len.is_none_or(|len| cap - len < want) {
                // Acquire: pairs with the consumer's Release store of `tail`.
                let tail = self.tail.load(Ordering::Acquire);
                len = self.len(tail, head);
                match len {
                    None => {
                        // The tail is newer than our head: our head is stale.
                        head = claim.head.load(Ordering::Relaxed);
                        guessed = false;
                        continue;
                    }
                    // Shared only when it makes room: a producer that finds the ring full
                    // does not write to the claim line, which the others are using.
                    Some(len) if cap - len >= min && tail != seen => {
                        // Release: passes the Acquire above on to other producers.
                        claim.tail_seen.store(tail, Ordering::Release);
                    }
                    Some(_) => {}
                }
            }
            let free = cap - len.expect("checked above");
            let n = want.min(free);
            if n < min {
                return None;
            }
            let end = head.wrapping_add(n);
            // Relaxed: the slots are ours once this succeeds; what they may be written
            // after was ordered by the tail's Acquire above.
            match claim
                .head
                .compare_exchange_weak(head, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    next.store(end, Ordering::Relaxed);
                    return Some((head, n));
                }
                Err(actual) => {
                    head = actual;
                    if guessed {
                        // Another handle claimed since this one did: try again at once from
                        // the real head.
                        guessed = false;
                        continue;
                    }
                    // Another producer won: let the line settle before trying again, as
                    // crossbeam's queues do (spinning only; this is not waiting for anyone).
                    for _ in 0..1u32 << contended {
                        std::hint::spin_loop();
                    }
                    contended = (contended + 1).min(6);
                }
            }
        }
    }

    /// Publishes the claimed run of `n >= 1` slots at position `pos`: as items if `hole` is
    /// false, as a hole to skip otherwise, and wakes the consumer if it sleeps.
    ///
    /// # Safety
    ///
    /// The run was claimed by the caller and is published once; for items, its slots hold
    /// initialised values and [`Mirror::written`] was called for its window.
    #[inline]
    unsafe fn publish(&self, pos: usize, n: usize, hole: bool) {
        self.publish_quietly(pos, n, hole);
        self.rare.readable.notify();
    }

    /// [`Shared::publish`] without the wake-up.
    #[inline]
    fn publish_quietly(&self, pos: usize, n: usize, hole: bool) {
        debug_assert!(n >= 1 && n <= self.capacity());
        if !hole {
            self.track_write(pos, n);
        }
        // Release: pairs with the consumer's Acquire load of the stamp; the items (and the
        // mirror's twin copy, on the heap backend) are written before it.
        self.stamp(pos)
            .store(stamp_of(pos.wrapping_add(n), hole), Ordering::Release);
    }

    /// Writes `value` into the claimed slot at `pos` and publishes it.
    ///
    /// # Safety
    ///
    /// The slot at `pos` was claimed by the caller and nothing was published there yet.
    #[inline]
    unsafe fn write_one(&self, pos: usize, value: T) {
        // SAFETY: the caller claimed the slot: nobody else writes it, and the consumer does
        // not read it before its stamp is published below.
        unsafe { self.window(pos, 1).write(value) };
        // SAFETY: one slot, just written, not yet published.
        unsafe { self.written(pos, 1) };
        // SAFETY: claimed by the caller, written above, published once.
        unsafe { self.publish(pos, 1, false) };
    }

    /// Under loom: records a write of the `n` slots from `pos`.
    #[inline(always)]
    fn track_write(&self, pos: usize, n: usize) {
        #[cfg(loom)]
        for i in 0..n {
            self.cells[pos.wrapping_add(i) & self.mask].with_mut(|_| ());
        }
        let _ = (pos, n);
    }

    /// Under loom: records a read of the `n` slots from `pos`.
    #[inline(always)]
    fn track_read(&self, pos: usize, n: usize) {
        #[cfg(loom)]
        for i in 0..n {
            self.cells[pos.wrapping_add(i) & self.mask].with(|_| ());
        }
        let _ = (pos, n);
    }

    /// The slots of a run, as uninitialised memory.
    #[inline]
    fn uninit(&self, pos: usize, n: usize) -> *mut MaybeUninit<T> {
        self.window(pos, n).cast()
    }

    /// [`Mirror::written`] for the window of `n` slots from position `pos`.
    ///
    /// # Safety
    ///
    /// As for [`Mirror::written`].
    #[inline(always)]
    unsafe fn written(&self, pos: usize, n: usize) {
        // SAFETY: forwarded from the caller; `pos & mask` is where that window starts.
        unsafe { self.mirror.written(pos & self.mask, n) }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Every handle is gone. The consumer dropped what it had verified and published its
        // tail at a run boundary, so from there on every published run still has its stamp.
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.claim.head.load(Ordering::Relaxed);
        drop_runs(self, tail, head);
    }
}

/// Drops the items of the published runs from position `from` to `to`, stopping early at a
/// run that was never published (a reservation that was forgotten, whose items leak). If an
/// item's `Drop` panics, the remaining runs are still dropped.
fn drop_runs<T>(shared: &Shared<T>, from: usize, to: usize) {
    /// Drops the runs after the current one if dropping the current one unwinds.
    struct Rest<'a, T>(&'a Shared<T>, usize, usize);
    impl<T> Drop for Rest<'_, T> {
        fn drop(&mut self) {
            drop_runs(self.0, self.1, self.2);
        }
    }

    let mut pos = from;
    while pos != to {
        // Relaxed: the caller has exclusive access (the last `Arc` is being dropped).
        let stamp = shared.stamp(pos).load(Ordering::Relaxed);
        let Some(n) = shared.run_at(stamp, pos) else {
            return;
        };
        let next = pos.wrapping_add(n);
        if stamp & HOLE == 0 {
            shared.track_read(pos, n);
            let items = ptr::slice_from_raw_parts_mut(shared.window(pos, n), n);
            let rest = Rest(shared, next, to);
            // SAFETY: a published run of items that nobody consumed: each is dropped once,
            // here, and nothing reads it again.
            unsafe { ptr::drop_in_place(items) };
            std::mem::forget(rest);
        }
        pos = next;
    }
}

/// A bounded queue for any number of producer threads and one consumer thread, on
/// mirrored memory.
///
/// Create it, then [`split()`](PicoMPSC::split) it into an [`MpscProducer`], which can be
/// cloned for every producing thread, and an [`MpscConsumer`]. See the
/// [module docs](self) for the protocol and its progress guarantee.
///
/// # Examples
///
/// The snippet this crate's API grew from, with the consumer bound `mut`:
///
/// ```
/// use picoring::create_mpsc;
/// use std::thread;
///
/// let (producer, mut consumer) = create_mpsc::<u32>(65536).unwrap();
///
/// // Multiple threads can clone and use the same producer
/// for i in 0..4 {
///     let p = producer.clone();
///     thread::spawn(move || {
///         p.push_slice(&[i; 64]); // Massive performance with slices
///     });
/// }
///
/// // Single consumer reads from all
/// let slice = consumer.readable_slice();
/// consumer.advance_tail(slice.len());
/// ```
///
/// With the threads joined and every batch checked:
///
/// ```
/// use picoring::PicoMPSC;
/// use std::thread;
///
/// let (producer, mut consumer) = PicoMPSC::<u32>::new(4096).unwrap().split();
/// let writers: Vec<_> = (0..4)
///     .map(|i| {
///         let p = producer.clone();
///         thread::spawn(move || assert_eq!(p.push_slice(&[i; 64]), 64))
///     })
///     .collect();
/// drop(producer);
/// for w in writers {
///     w.join().unwrap();
/// }
/// let slice = consumer.readable_slice();
/// assert_eq!(slice.len(), 256);
/// // Each batch is contiguous: a producer's run is never interleaved with another's.
/// assert!(slice.chunks(64).all(|batch| batch.iter().all(|&v| v == batch[0])));
/// consumer.advance_tail(slice.len());
/// assert!(consumer.is_disconnected());
/// ```
pub struct PicoMPSC<T> {
    shared: Arc<Shared<T>>,
}

impl<T> PicoMPSC<T> {
    /// Creates a queue with room for at least `capacity` items.
    ///
    /// The capacity is rounded up to a power of two that fills whole pages (a position's
    /// slot is then its low bits); the halves report it.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroCapacity`] for a capacity of 0, [`Error::CapacityOverflow`] or
    /// [`Error::AlignmentTooLarge`] when no mirror can hold it, [`Error::Map`] when the OS
    /// refuses the mapping (or the stamps cannot be allocated).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = picoring::PicoMPSC::<u64>::new(1000).unwrap();
    /// assert_eq!(queue.capacity(), 1024);
    /// ```
    pub fn new(capacity: usize) -> Result<PicoMPSC<T>, Error> {
        Ok(PicoMPSC {
            shared: Arc::new(Shared::new(capacity)?),
        })
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Splits the queue into its first producer and its consumer.
    pub fn split(self) -> (MpscProducer<T>, MpscConsumer<T>) {
        let producer = MpscProducer::new(Arc::clone(&self.shared));
        (producer, MpscConsumer::new(self.shared))
    }
}

impl<T> fmt::Debug for PicoMPSC<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PicoMPSC")
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Creates a [`PicoMPSC`] with room for at least `capacity` items and splits it.
///
/// # Errors
///
/// As [`PicoMPSC::new`].
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = picoring::create_mpsc::<&str>(16).unwrap();
/// let tx2 = tx.clone();
/// tx.push("a").unwrap();
/// tx2.push("b").unwrap();
/// assert_eq!(rx.pop(), Some("a"));
/// assert_eq!(rx.pop(), Some("b"));
/// ```
pub fn create_mpsc<T>(capacity: usize) -> Result<(MpscProducer<T>, MpscConsumer<T>), Error> {
    Ok(PicoMPSC::new(capacity)?.split())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn capacities_are_powers_of_two() {
        for (min, size) in [(1, 8), (1000, 8), (4097, 1), (3, 24), (1, 4100), (65537, 8)] {
            let shared = match size {
                1 => Shared::<u8>::new(min).unwrap().capacity(),
                8 => Shared::<u64>::new(min).unwrap().capacity(),
                24 => Shared::<[u8; 24]>::new(min).unwrap().capacity(),
                _ => Shared::<[u8; 4100]>::new(min).unwrap().capacity(),
            };
            assert!(
                shared.is_power_of_two() && shared >= min,
                "{min} x {size}: {shared}"
            );
        }
        assert!(matches!(Shared::<u8>::new(0), Err(Error::ZeroCapacity)));
        assert!(matches!(
            Shared::<u8>::new(usize::MAX / 2 + 2),
            Err(Error::CapacityOverflow)
        ));
    }

    #[test]
    fn stamp_layout_is_a_permutation_that_spreads_neighbours() {
        for cap in [1, 8, 256, 512, 1024, 65536] {
            let mask = cap - 1;
            let mut seen = vec![false; cap];
            for slot in 0..cap {
                let i = stamp_index(slot, mask);
                assert!(i < cap && !seen[i], "{cap}: slot {slot} -> {i}");
                seen[i] = true;
            }
        }
        let mask = 65535;
        let line = |slot: usize| stamp_index(slot, mask) / 8;
        for slot in (0..65536).step_by(8) {
            let lines: std::collections::HashSet<_> = (slot..slot + 8).map(line).collect();
            assert_eq!(lines.len(), 8, "slots {slot}.. share lines");
        }
        for slot in (0..65536 - 64).step_by(64) {
            if (slot + 64) % STAMP_BLOCK != 0 {
                assert_eq!(line(slot + 64), line(slot) + 1, "runs of 64 from {slot}");
            }
        }
        assert_eq!(stamp_index(5, 255), 5);
    }

    #[test]
    fn stamps_left_from_earlier_laps_are_not_runs() {
        let shared = Shared::<u8>::new(1).unwrap();
        let cap = shared.capacity();
        let fresh = |pos: usize| shared.run_at(shared.stamp(pos).load(Ordering::Relaxed), pos);
        // At first, every slot's stamp is an empty run ending at position 0.
        assert!((0..cap).all(|pos| fresh(pos).is_none()));
        for (start, n) in [(0, cap), (5, 1), (7, cap - 2), (usize::MAX - 2, 9)] {
            shared.publish_quietly(start, n, false);
            assert_eq!(fresh(start), Some(n), "run of {n} at {start}");
            // A lap or more later, at the same slot: left from an earlier lap. A run of a
            // whole lap ends exactly there.
            for later in [cap, 2 * cap, 1 << 40, (1 << 63) - cap] {
                assert_eq!(
                    fresh(start.wrapping_add(later)),
                    None,
                    "{n} at {start} + {later}"
                );
            }
            shared.publish_quietly(start, n, true);
            assert_eq!(fresh(start), Some(n));
            assert_eq!(shared.stamp(start).load(Ordering::Relaxed) & HOLE, HOLE);
        }
        // Positions past the top of the counter wrap like the counter.
        assert_eq!(shared.run_at(stamp_of(3, false), usize::MAX), Some(4));
        assert_eq!(
            shared.run_at(stamp_of(1 << 63, false), (1 << 63) - 1),
            Some(1)
        );
    }

    #[test]
    fn stale_tails_are_told_from_fresh_ones() {
        let shared = Shared::<u8>::new(1).unwrap();
        let cap = shared.capacity();
        let mut head = 0usize;
        let mut tail = 0usize;
        for round in 0..10 * cap {
            let n = 1 + round % cap;
            if shared.len(tail, head).unwrap() + n > cap {
                tail = tail.wrapping_add(shared.len(tail, head).unwrap());
            }
            let old = head;
            head = head.wrapping_add(n);
            assert_eq!(shared.len(old, head), Some(n));
            // A tail read after a newer head is ahead of the old head: refused.
            assert_eq!(shared.len(head, old), None);
            assert!(shared.len(tail, head).unwrap() <= cap);
        }
        // More than a capacity behind: refused, even at the same slot.
        assert_eq!(shared.len(3, 3 + 2 * cap), None);
        assert_eq!(shared.len(3, 3 + cap + 1), None);
        assert_eq!(shared.len(3, 3 + cap), Some(cap));
    }

    #[test]
    fn positions_wrap_at_the_end_of_the_counter() {
        let shared = Shared::<u8>::new(1).unwrap();
        let top = usize::MAX;
        let wrapped = top.wrapping_add(1);
        assert_eq!(wrapped, 0);
        assert_eq!(shared.len(top, wrapped), Some(1));
        assert_eq!(shared.len(top - 5, 10), Some(16));
        assert_eq!(shared.len(10, top - 5), None);
        assert_eq!(
            shared.window(top, 1),
            shared.window(shared.capacity() - 1, 1)
        );
        assert!(ptr::eq(
            shared.stamp(top),
            shared.stamp(shared.capacity() - 1)
        ));
    }
}
