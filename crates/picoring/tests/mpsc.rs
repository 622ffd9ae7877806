//! `create_mpsc` in one thread: edge cases, abandoned reservations, ownership, and a model
//! test against a `VecDeque` of slots for odd element sizes (public API only).
//!
//! The model keeps one entry per claimed slot: an item, a slot of a reservation still open,
//! or a hole left by a reservation given up. The consumer skips holes only when they are at
//! the front and it looks for items, which the model reproduces exactly, so every result is
//! predicted, down to `free_len`.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use picoring::mpsc::Reservation;
use picoring::{
    MpscConsumer, MpscProducer, PicoMPSC, PopTimeoutError, PushTimeoutError, create_mpsc,
};
use proptest::prelude::*;

mod common;

use common::elem::{Counted, E1, E3, E12, E24, E48, E4100, Elem, counted_drops};

fn quiet_expected_panics() {
    common::quiet_expected_panics(&["intentional panic", "cannot advance", "cannot commit"]);
}

fn panic_of(f: impl FnOnce()) -> String {
    let err = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    common::panic_message(&*err).to_owned()
}

// ---------------------------------------------------------------------------------------
// Edges
// ---------------------------------------------------------------------------------------

#[test]
fn handles_are_send_sync_as_documented() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<MpscProducer<String>>();
    sync::<MpscProducer<String>>();
    send::<MpscConsumer<String>>();
    send::<Reservation<'static, String>>();
}

#[test]
fn capacity_is_rounded_and_zero_is_refused() {
    assert!(matches!(
        create_mpsc::<u64>(0),
        Err(picoring::Error::ZeroCapacity)
    ));
    let queue = PicoMPSC::<u64>::new(1000).unwrap();
    let cap = queue.capacity();
    assert!(cap >= 1000);
    let (p, c) = queue.split();
    assert_eq!((p.capacity(), c.capacity(), p.free_len()), (cap, cap, cap));
    assert!(format!("{p:?} {c:?}").contains("MpscProducer"));
}

#[test]
fn push_fills_every_slot_then_gives_the_value_back() {
    let (p, mut c) = create_mpsc::<String>(1).unwrap();
    let cap = p.capacity();
    for i in 0..cap {
        p.push(i.to_string()).unwrap();
    }
    assert_eq!(p.free_len(), 0);
    assert_eq!(p.push("x".into()), Err("x".into()));
    assert_eq!(c.len(), cap);
    assert_eq!(c.pop().as_deref(), Some("0"));
    p.push("last".into()).unwrap();
    c.advance_tail(cap - 1);
    assert_eq!(c.readable_slice(), ["last"]);
}

#[test]
fn a_handle_left_behind_by_others_claims_where_the_queue_is() {
    // Each handle starts its claims where its own last one ended; these are wrong once
    // another handle has pushed, by a few slots or by laps.
    let (a, mut c) = create_mpsc::<u32>(1).unwrap();
    let b = a.clone();
    let cap = a.capacity();
    a.push(0).unwrap();
    b.push(1).unwrap();
    a.push(2).unwrap();
    assert_eq!((c.pop(), c.pop(), c.pop()), (Some(0), Some(1), Some(2)));
    for lap in 0..3 {
        for i in 0..cap {
            b.push((lap * cap + i) as u32).unwrap();
        }
        // Full, whatever `a` last saw.
        assert_eq!(a.push(7), Err(7));
        c.advance_tail(cap);
    }
    a.push(8).unwrap();
    assert_eq!(a.free_len(), cap - 1);
    for i in 1..cap {
        b.push(i as u32).unwrap();
    }
    assert_eq!(a.push(9), Err(9));
    assert_eq!(c.pop(), Some(8));
    assert_eq!(a.push_slice(&[10, 11]), 1);
    assert_eq!(c.len(), cap);
}

#[test]
fn push_slice_copies_what_fits_as_one_run() {
    let (p, mut c) = create_mpsc::<u32>(1).unwrap();
    let cap = p.capacity();
    assert_eq!(p.push_slice(&[]), 0);
    assert_eq!(p.push_slice(&vec![7; cap - 2]), cap - 2);
    assert_eq!(p.push_slice(&[1, 2, 3]), 2);
    assert_eq!(p.push_slice(&[4]), 0);
    c.advance_tail(cap - 2);
    assert_eq!(c.readable_slice(), &[1, 2]);
    // Wrapped: one slice across the physical end.
    assert_eq!(p.push_slice(&(0..cap as u32).collect::<Vec<_>>()), cap - 2);
    let slice = c.readable_slice();
    assert_eq!(slice.len(), cap);
    assert_eq!(&slice[..4], &[1, 2, 0, 1]);
    assert_eq!(slice[cap - 1], cap as u32 - 3);
}

#[test]
fn advance_tail_past_the_readable_items_panics_with_both_numbers() {
    quiet_expected_panics();
    let (p, mut c) = create_mpsc::<u8>(16).unwrap();
    p.push_slice(b"abc");
    let msg = panic_of(|| c.advance_tail(4));
    assert_eq!(msg, "cannot advance the tail by 4 items: 3 are readable");
    assert_eq!(c.readable_slice(), b"abc");
    c.advance_tail(0);
    c.advance_tail(3);
    assert!(c.is_empty());
}

#[test]
fn disconnection_is_seen_on_both_sides() {
    let (p, mut c) = create_mpsc::<u8>(16).unwrap();
    let p2 = p.clone();
    p.push(1).unwrap();
    drop(p);
    assert!(!c.is_disconnected());
    p2.push(2).unwrap();
    drop(p2);
    assert!(!c.is_disconnected(), "two items are left");
    assert_eq!(c.pop_blocking(), Some(1));
    assert_eq!(c.pop_timeout(Duration::from_millis(1)), Ok(2));
    assert!(c.is_disconnected());
    assert_eq!(c.pop_blocking(), None);
    assert_eq!(
        c.pop_timeout(Duration::from_millis(1)),
        Err(PopTimeoutError::Disconnected)
    );

    let (p, c) = create_mpsc::<u8>(1).unwrap();
    while p.push(0).is_ok() {}
    assert_eq!(
        p.push_timeout(5, Duration::from_millis(1)),
        Err(PushTimeoutError::Timeout(5))
    );
    assert!(!p.is_disconnected());
    drop(c);
    assert!(p.is_disconnected());
    assert_eq!(p.push_blocking(6), Err(6));
}

#[test]
fn async_push_and_pop_resolve() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (p, mut c) = create_mpsc::<u32>(1).unwrap();
    let cap = p.capacity() as u32;
    rt.block_on(async {
        let writer = async {
            for i in 0..3 * cap {
                p.push_async(i).await.unwrap();
            }
            drop(p);
        };
        let reader = async {
            let mut next = 0;
            while let Some(v) = c.pop_async().await {
                assert_eq!(v, next);
                next += 1;
            }
            next
        };
        let ((), n) = tokio::join!(writer, reader);
        assert_eq!(n, 3 * cap);
    });
}

// ---------------------------------------------------------------------------------------
// Reservations
// ---------------------------------------------------------------------------------------

#[test]
fn a_held_reservation_does_not_block_other_producers_until_the_ring_fills() {
    let (p, c) = create_mpsc::<u64>(1).unwrap();
    let cap = p.capacity();
    let other = p.clone();
    let mut r = p.reserve(2).unwrap();
    for i in 0..cap as u64 - 2 {
        other.push(i).unwrap();
    }
    assert_eq!(other.push(99), Err(99), "full, not blocked");
    assert!(c.readable_slice().is_empty(), "the reservation is first");
    for slot in r.as_mut_slice() {
        slot.write(1000);
    }
    // SAFETY: both slots were written.
    unsafe { r.commit(2) };
    let slice = c.readable_slice();
    assert_eq!(slice.len(), cap);
    assert_eq!(&slice[..3], &[1000, 1000, 0]);
}

#[test]
fn reservations_of_nothing_or_too_much() {
    let (p, c) = create_mpsc::<u64>(1).unwrap();
    let cap = p.capacity();
    let r = p.reserve(0).unwrap();
    assert!(r.is_empty());
    drop(r);
    assert!(p.reserve(cap + 1).is_none());
    p.push(1).unwrap();
    assert!(p.reserve(cap).is_none());
    assert_eq!(p.reserve(cap - 1).unwrap().len(), cap - 1);
    // The dropped reservation is skipped: only the item is readable, then the ring is free.
    assert_eq!(c.readable_slice(), &[1]);
    assert!(!c.is_empty());
}

#[test]
fn a_dropped_reservation_is_a_hole_that_is_skipped_without_drops() {
    let drops = Arc::new(());
    let (p, mut c) = create_mpsc::<Arc<()>>(1).unwrap();
    let cap = p.capacity();
    p.push(Arc::clone(&drops)).unwrap();
    let mut gone = p.reserve(3).unwrap();
    // Written but not committed: forgotten, not dropped.
    let leaked = Arc::new(());
    gone.as_mut_slice()[0].write(Arc::clone(&leaked));
    p.push(Arc::clone(&drops)).unwrap();
    drop(gone);
    assert_eq!(c.len(), 1, "the hole ends the readable items");
    assert!(c.pop().is_some());
    assert_eq!(c.len(), 1, "the hole at the front is skipped");
    assert_eq!(p.free_len(), cap - 1);
    assert!(c.pop().is_some());
    assert_eq!(Arc::strong_count(&drops), 1);
    assert_eq!(
        Arc::strong_count(&leaked),
        2,
        "uncommitted values are forgotten"
    );
    // SAFETY: the clone written into the abandoned reservation was forgotten, so one
    // strong count is owned by nobody; releasing it here keeps the test free of leaks.
    unsafe { Arc::decrement_strong_count(Arc::as_ptr(&leaked)) };
    assert_eq!(Arc::strong_count(&leaked), 1);
    // A hole at the very end: the queue is drained and, once producers are gone,
    // disconnected.
    drop(p.reserve(2).unwrap());
    drop(p);
    assert!(c.is_disconnected());
}

#[test]
fn partial_commits_and_failed_commits_leave_holes() {
    quiet_expected_panics();
    let (p, mut c) = create_mpsc::<String>(16).unwrap();
    let mut r = p.reserve(4).unwrap();
    r.as_mut_slice()[0].write("a".into());
    // SAFETY: the first slot was written.
    unsafe { r.commit(1) };
    let r = p.reserve(2).unwrap();
    // SAFETY: never reached: the count is checked first.
    let msg = panic_of(|| unsafe { r.commit(3) });
    assert_eq!(msg, "cannot commit 3 slots: the reservation has 2");
    assert_eq!(p.reserve(2).unwrap().fill_from_iter(["b".into()]), 1);
    p.push("c".into()).unwrap();
    assert_eq!(c.readable_slice(), ["a"]);
    c.advance_tail(1);
    assert_eq!(c.readable_slice(), ["b"]);
    assert_eq!(c.pop().as_deref(), Some("b"));
    assert_eq!(c.pop().as_deref(), Some("c"));
    assert_eq!(c.pop(), None);
    assert_eq!(p.free_len(), p.capacity());
}

#[test]
fn a_panicking_iterator_commits_what_it_wrote() {
    quiet_expected_panics();
    let (p, mut c) = create_mpsc::<String>(16).unwrap();
    let r = p.reserve(5).unwrap();
    let iter = (0..).map(|i| {
        if i == 2 {
            panic!("intentional panic in the iterator");
        }
        i.to_string()
    });
    panic_of(|| {
        r.fill_from_iter(iter);
    });
    assert_eq!(c.readable_slice(), ["0", "1"]);
    c.advance_tail(2);
    assert!(c.is_empty());
    assert_eq!(p.free_len(), p.capacity());
}

// ---------------------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------------------

#[test]
fn every_item_is_dropped_once_also_inside_at_drop() {
    let token = Arc::new(());
    let (p, mut c) = create_mpsc::<Arc<()>>(1).unwrap();
    let cap = p.capacity();
    let p2 = p.clone();
    for i in 0..cap {
        let producer = if i % 2 == 0 { &p } else { &p2 };
        producer.push(Arc::clone(&token)).unwrap();
    }
    c.advance_tail(cap / 2);
    assert!(c.pop().is_some());
    drop(p.reserve(1).unwrap());
    p.push(Arc::clone(&token)).unwrap();
    // Some verified by the consumer, some not: both are dropped.
    assert!(!c.readable_slice().is_empty());
    p2.push(Arc::clone(&token)).unwrap();
    assert_eq!(Arc::strong_count(&token), 1 + cap - cap / 2 - 1 + 2);
    drop(c);
    assert_eq!(
        Arc::strong_count(&token),
        1 + 2,
        "the consumer dropped what it had seen"
    );
    assert!(p.is_disconnected());
    drop(p);
    drop(p2);
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
fn a_panicking_drop_still_drops_the_rest() {
    quiet_expected_panics();
    struct Bomb<'a>(bool, &'a Cell<usize>);
    impl Drop for Bomb<'_> {
        fn drop(&mut self) {
            self.1.set(self.1.get() + 1);
            if self.0 {
                panic!("intentional panic in drop");
            }
        }
    }
    let count = Cell::new(0);
    // In `advance_tail`: the tail still moves past every item.
    let (p, mut c) = create_mpsc::<Bomb<'_>>(16).unwrap();
    for i in 0..4 {
        assert!(p.push(Bomb(i == 1, &count)).is_ok());
    }
    panic_of(|| c.advance_tail(3));
    assert_eq!(count.get(), 3);
    assert_eq!(c.len(), 1);
    // In the queue's drop, across several runs.
    for i in 0..4 {
        assert!(p.push(Bomb(i == 2, &count)).is_ok());
    }
    drop(c);
    drop(p.reserve(1).unwrap());
    assert!(p.push(Bomb(false, &count)).is_ok());
    panic_of(|| drop(p));
    assert_eq!(count.get(), 3 + 1 + 4 + 1);
}

#[test]
fn zero_sized_items() {
    // Capacities are powers of two, for items of any size.
    let (p, mut c) = create_mpsc::<()>(5).unwrap();
    assert_eq!(p.capacity(), 8);
    for _ in 0..8 {
        p.push(()).unwrap();
    }
    assert_eq!(p.push(()), Err(()));
    assert_eq!(c.readable_slice().len(), 8);
    c.advance_tail(3);
    assert_eq!(p.push_slice(&[(); 4]), 3);
    assert_eq!(c.len(), 8);
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// The model's element types: the awkward sizes, each counting its drops.
type C1 = Counted<E1>;
type C3 = Counted<E3>;
type C12 = Counted<E12>;
type C24 = Counted<E24>;
type C48 = Counted<E48>;
type C4100 = Counted<E4100>;

/// What a slot of the model holds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Slot {
    Item(u64),
    /// A slot of the open reservation with this id.
    Open(u64),
    Hole,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Producer `p % 3` pushes one item.
    Push(usize),
    /// Producer `p % 3` reserves `n` permille of the capacity (+1).
    Reserve(usize, usize),
    /// Finishes open reservation `i % open`: writes and commits `k` permille of it.
    Commit(usize, usize),
    /// Finishes open reservation `i % open` with `fill_from_iter` of `k` permille.
    Fill(usize, usize),
    /// Drops open reservation `i % open`.
    Abandon(usize),
    Pop,
    /// Advances by `n` permille of the readable items.
    Advance(usize),
    AdvanceTooFar,
    Check,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize).prop_map(Op::Push),
        3 => (0..3usize, 0..1000usize).prop_map(|(p, n)| Op::Reserve(p, n)),
        2 => (0..8usize, 0..1001usize).prop_map(|(i, k)| Op::Commit(i, k)),
        1 => (0..8usize, 0..1001usize).prop_map(|(i, k)| Op::Fill(i, k)),
        1 => (0..8usize).prop_map(Op::Abandon),
        4 => Just(Op::Pop),
        3 => (0..1001usize).prop_map(Op::Advance),
        1 => Just(Op::AdvanceTooFar),
        2 => Just(Op::Check),
    ]
}

/// A deterministic op sequence (for Miri, and for runs longer than proptest's).
fn xorshift_ops(mut seed: u64, count: usize) -> Vec<Op> {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    (0..count)
        .map(|_| {
            let (a, b) = (next() as usize, next() as usize);
            match a % 23 {
                0..6 => Op::Push(b % 3),
                6..9 => Op::Reserve(b % 3, (b >> 8) % 1000),
                9..11 => Op::Commit(b, (b >> 8) % 1001),
                11 => Op::Fill(b, (b >> 8) % 1001),
                12 => Op::Abandon(b),
                13..17 => Op::Pop,
                17..20 => Op::Advance(b % 1001),
                20 => Op::AdvanceTooFar,
                _ => Op::Check,
            }
        })
        .collect()
}

struct Model<'p, T> {
    producers: &'p [MpscProducer<T>],
    consumer: MpscConsumer<T>,
    slots: VecDeque<Slot>,
    open: Vec<(u64, Reservation<'p, T>)>,
    next_key: u64,
    next_res: u64,
    /// Items that left the queue through `pop` or `advance_tail`, and drops expected.
    dropped: u64,
}

impl<T: Elem> Model<'_, T> {
    fn cap(&self) -> usize {
        self.consumer.capacity()
    }

    /// What the consumer does when it looks for items with none known: skip leading holes.
    fn skip_holes(&mut self) {
        while self.slots.front() == Some(&Slot::Hole) {
            self.slots.pop_front();
        }
    }

    fn readable(&self) -> Vec<u64> {
        self.slots
            .iter()
            .map_while(|s| match s {
                Slot::Item(k) => Some(T::key(*k)),
                _ => None,
            })
            .collect()
    }

    fn key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    fn finish(&mut self, i: usize, k: usize, fill: bool) {
        if self.open.is_empty() {
            return;
        }
        let (id, mut r) = self.open.swap_remove(i % self.open.len());
        let n = r.len() * k / 1000;
        let keys: Vec<u64> = (0..n).map(|_| self.key()).collect();
        if fill {
            assert_eq!(r.fill_from_iter(keys.iter().map(|&k| T::make(k))), n);
        } else {
            for (slot, &key) in r.as_mut_slice().iter_mut().zip(&keys) {
                slot.write(T::make(key));
            }
            // SAFETY: the first `n` slots were written.
            unsafe { r.commit(n) };
        }
        let mut keys = keys.into_iter();
        for s in self.slots.iter_mut().filter(|s| **s == Slot::Open(id)) {
            *s = keys.next().map_or(Slot::Hole, Slot::Item);
        }
    }

    fn apply(&mut self, op: Op) {
        let cap = self.cap();
        match op {
            Op::Push(p) => {
                let key = self.key();
                let result = self.producers[p % 3].push(T::make(key));
                if self.slots.len() < cap {
                    assert!(
                        result.is_ok(),
                        "push failed with {} of {cap}",
                        self.slots.len()
                    );
                    self.slots.push_back(Slot::Item(key));
                } else {
                    let back = result.expect_err("pushed into a full queue");
                    assert_eq!(back.id(), T::key(key));
                    self.dropped += 1;
                }
            }
            Op::Reserve(p, n) => {
                let n = 1 + cap * n / 1000;
                let r = self.producers[p % 3].reserve(n);
                if self.slots.len() + n <= cap {
                    let r = r.expect("reserve failed with room");
                    assert_eq!(r.len(), n);
                    self.next_res += 1;
                    let id = self.next_res;
                    self.slots.extend((0..n).map(|_| Slot::Open(id)));
                    self.open.push((id, r));
                } else {
                    assert!(r.is_none(), "reserved more than the free slots");
                }
            }
            Op::Commit(i, k) => self.finish(i, k, false),
            Op::Fill(i, k) => self.finish(i, k, true),
            Op::Abandon(i) => {
                if !self.open.is_empty() {
                    let (id, r) = self.open.swap_remove(i % self.open.len());
                    drop(r);
                    for s in self.slots.iter_mut().filter(|s| **s == Slot::Open(id)) {
                        *s = Slot::Hole;
                    }
                }
            }
            Op::Pop => {
                self.skip_holes();
                let expected = match self.slots.front() {
                    Some(Slot::Item(k)) => Some(T::key(*k)),
                    _ => None,
                };
                let got = self.consumer.pop();
                assert_eq!(got.as_ref().map(T::id), expected);
                if got.is_some() {
                    self.slots.pop_front();
                    drop(got);
                    self.dropped += 1;
                }
            }
            Op::Advance(k) => {
                let readable = self.consumer.len();
                self.skip_holes();
                assert_eq!(readable, self.readable().len());
                let n = readable * k / 1000;
                self.consumer.advance_tail(n);
                self.slots.drain(..n);
                self.dropped += n as u64;
            }
            Op::AdvanceTooFar => {
                if self.slots.front() == Some(&Slot::Hole) {
                    self.skip_holes();
                }
                let n = self.readable().len() + 1;
                let consumer = &mut self.consumer;
                let msg = panic_of(|| consumer.advance_tail(n));
                assert!(msg.starts_with("cannot advance the tail by"), "{msg}");
            }
            Op::Check => {
                self.skip_holes();
                let got: Vec<u64> = self.consumer.readable_slice().iter().map(T::id).collect();
                assert_eq!(got, self.readable());
            }
        }
        assert_eq!(counted_drops(), self.dropped, "drops after {op:?}");
        assert_eq!(self.producers[0].free_len(), cap - self.slots.len());
    }
}

/// Runs `ops` on a queue of the smallest capacity for `T`; returns the number of items
/// pushed (for lap counting) and checks every drop, including at the end.
fn run<T: Elem>(ops: &[Op]) -> (u64, usize) {
    quiet_expected_panics();
    let start = counted_drops();
    let (p, c) = create_mpsc::<T>(1).unwrap();
    let producers = [p.clone(), p.clone(), p];
    let mut model = Model {
        producers: &producers,
        consumer: c,
        slots: VecDeque::new(),
        open: Vec::new(),
        next_key: 0,
        next_res: 0,
        dropped: start,
    };
    for &op in ops {
        model.apply(op);
    }
    let cap = model.cap();
    let inside = model
        .slots
        .iter()
        .filter(|s| matches!(s, Slot::Item(_)))
        .count() as u64;
    let (pushed, expected) = (model.next_key, model.dropped + inside);
    drop(model);
    drop(producers);
    assert_eq!(counted_drops(), expected, "the queue's drop");
    (pushed, cap)
}

macro_rules! model_tests {
    ($($name:ident: $ty:ty, cases $cases:expr;)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig {
                    cases: $cases,
                    failure_persistence: None,
                    ..ProptestConfig::default()
                })]

                #[test]
                #[cfg_attr(miri, ignore = "too slow under Miri; long_run covers the model")]
                fn matches_the_model(ops in proptest::collection::vec(op(), 1..200)) {
                    run::<$ty>(&ops);
                }
            }

            #[test]
            fn long_run_wraps_many_times() {
                let count = if cfg!(miri) { 700 } else { 5000 };
                let seed = stringify!($name).bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
                let (pushed, cap) = run::<$ty>(&xorshift_ops(seed, count));
                assert!(pushed as usize >= 3 * cap, "{pushed} keys for a capacity of {cap}");
            }
        }
    )*};
}

model_tests! {
    size_1: C1, cases 64;
    size_3: C3, cases 64;
    size_12: C12, cases 64;
    size_24: C24, cases 64;
    size_48: C48, cases 64;
    size_4100: C4100, cases 32;
}

#[test]
fn uninit_slots_are_maybe_uninit() {
    let (p, c) = create_mpsc::<u16>(16).unwrap();
    let mut r = p.reserve(2).unwrap();
    let slots: &mut [MaybeUninit<u16>] = r.as_mut_slice();
    slots[0].write(1);
    slots[1].write(2);
    // SAFETY: both written.
    unsafe { r.commit(2) };
    assert_eq!(c.readable_slice(), &[1, 2]);
}

/// A few threads, small enough for Miri, whose race detector then checks the protocol.
#[test]
fn threads_with_reservations_and_blocking_waits() {
    let each: u64 = if cfg!(miri) { 40 } else { 10_000 };
    let (producer, mut consumer) = create_mpsc::<u64>(1).unwrap();
    std::thread::scope(|s| {
        for p in 0..3u64 {
            let producer = producer.clone();
            s.spawn(move || {
                let mut seq = 0;
                while seq < each {
                    let v = p << 32 | seq;
                    match seq % 3 {
                        0 => producer.push_blocking(v).unwrap(),
                        1 => {
                            // Gives one reservation up, then commits the next.
                            if let Some(r) = producer.reserve(2) {
                                drop(r);
                            }
                            loop {
                                if let Some(r) = producer.reserve(1) {
                                    assert_eq!(r.copy_from_slice(&[v]), 1);
                                    break;
                                }
                                std::thread::yield_now();
                            }
                        }
                        _ => {
                            while producer.push_slice(&[v]) == 0 {
                                std::thread::yield_now();
                            }
                        }
                    }
                    seq += 1;
                }
            });
        }
        drop(producer);
        let mut next = [0u64; 3];
        loop {
            let slice = consumer.readable_slice_blocking(2);
            if slice.is_empty() {
                break;
            }
            for &v in slice {
                let p = (v >> 32) as usize;
                assert_eq!(v & 0xffff_ffff, next[p], "producer {p} out of order");
                next[p] += 1;
            }
            let n = slice.len();
            consumer.advance_tail(n);
        }
        assert_eq!(next, [each; 3]);
        assert!(consumer.is_disconnected());
    });
}
