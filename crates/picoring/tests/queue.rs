//! `PicoQueue`: model tests against a `VecDeque` with odd element sizes and drop-counting
//! values, checked counts that panic and leave the queue intact, and reservation rules.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};

use bytemuck::Pod;
use picoring::PicoQueue;
use proptest::prelude::*;

mod common;
use common::XorShift;
use common::elem::{
    E1, E3, E12, E24, E48, E4100, Elem, Tracked, assert_ledger, panic_on_drop, reset_ledger,
};

fn quiet() {
    common::quiet_expected_panics(&["cannot ", "intentional panic", "index "]);
}

/// Runs `f`, which must panic with a message that starts with `prefix`.
fn assert_panics(prefix: &str, f: impl FnOnce()) {
    let err = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    let msg = common::panic_message(&*err);
    assert!(msg.starts_with(prefix), "panic {msg:?} is not {prefix:?}");
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// One step, decoded from four random numbers (so that proptest can shrink them).
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `reserve(n)` (Pod) or `reserve_uninit(n)`, write `w` slots, commit `c`.
    Reserve {
        n: usize,
        w: usize,
        c: usize,
    },
    TryPush,
    TryPop,
    Release(usize),
    /// `queue[i] = new`, possibly out of range.
    Set(usize),
    /// Reserve, then a call that ends the reservation, then `commit(1)`: must panic.
    StaleCommit(u8),
    Clear,
    /// Release `n` items, one of which panics in `Drop` (drop-counting values only).
    ReleasePanicking {
        n: usize,
        at: usize,
    },
}

/// `part` per mille of `total`, up to 1.2 times the total: often past a bound.
fn part(total: usize, part: u16) -> usize {
    match part % 8 {
        0 => total,
        1 => total + 1,
        2 => (part as usize) % 4,
        _ => total * (part as usize % 1200) / 1000,
    }
}

fn decode(raw: (u8, u16, u16, u16), len: usize, free: usize) -> Op {
    let (kind, a, b, c) = raw;
    match kind % 16 {
        0..=4 => {
            let n = part(free, a);
            Op::Reserve {
                n,
                w: part(n, b).min(n),
                c: part(n, c),
            }
        }
        5..=6 => Op::TryPush,
        7..=8 => Op::TryPop,
        9..=10 => Op::Release(part(len, a)),
        11 => Op::Set(part(len, a)),
        12 => Op::StaleCommit((a % 4) as u8),
        13 => Op::Clear,
        _ => {
            let n = part(len, a).min(len);
            Op::ReleasePanicking {
                n,
                at: b as usize % n.max(1),
            }
        }
    }
}

struct Run<T: Elem> {
    queue: PicoQueue<T>,
    model: VecDeque<u64>,
    next: u64,
    /// `Some` for Pod types: reserve through `reserve`/`commit`; `None`: `reserve_uninit`.
    pod: Option<PodOps<T>>,
}

struct PodOps<T> {
    reserve: fn(&mut PicoQueue<T>, usize) -> Option<&mut [T]>,
    commit: fn(&mut PicoQueue<T>, usize),
}

fn pod_ops<T: Pod>() -> PodOps<T> {
    PodOps {
        reserve: |q, n| q.reserve(n),
        commit: |q, n| q.commit(n),
    }
}

impl<T: Elem> Run<T> {
    fn new(pod: Option<PodOps<T>>) -> Self {
        Run {
            queue: PicoQueue::new(1).unwrap(),
            model: VecDeque::new(),
            next: 0,
            pod,
        }
    }

    fn fresh(&mut self) -> T {
        self.next += 1;
        T::make(self.next - 1)
    }

    fn step(&mut self, raw: (u8, u16, u16, u16)) {
        let cap = self.queue.capacity();
        let len = self.queue.len();
        let op = decode(raw, len, cap - len);
        match op {
            Op::Reserve { n, w, c } => self.reserve(n, w, c),
            Op::TryPush => {
                let v = self.fresh();
                let id = v.id();
                match self.queue.try_push(v) {
                    Ok(()) => self.model.push_back(id),
                    Err(v) => {
                        assert_eq!(len, cap, "try_push refused with free slots");
                        drop(v);
                    }
                }
            }
            Op::TryPop => {
                let got = self.queue.try_pop().map(|v| v.id());
                assert_eq!(got, self.model.pop_front().map(T::key));
            }
            Op::Release(n) if n > len => {
                assert_panics("cannot release", || self.queue.release(n));
            }
            Op::Release(n) => {
                self.queue.release(n);
                self.model.drain(..n);
            }
            Op::Set(i) if i >= len => {
                assert!(self.queue.get(i).is_none() && self.queue.get_mut(i).is_none());
                assert_panics("index ", || {
                    let _ = &self.queue[i];
                });
            }
            Op::Set(i) => {
                let v = self.fresh();
                self.model[i] = v.id();
                self.queue[i] = v;
            }
            Op::StaleCommit(how) => self.stale_commit(how),
            Op::Clear => {
                self.queue.clear();
                self.model.clear();
            }
            Op::ReleasePanicking { n, at } => {
                if self.pod.is_some() || n == 0 {
                    return;
                }
                panic_on_drop(Some(self.model[at]));
                assert_panics("intentional panic", || self.queue.release(n));
                panic_on_drop(None);
                self.model.drain(..n);
            }
        }
        self.check();
    }

    fn reserve(&mut self, n: usize, w: usize, c: usize) {
        let free = self.queue.vacant_len();
        let values: Vec<T> = (0..w.min(free)).map(|_| self.fresh()).collect();
        let ids: Vec<u64> = values.iter().map(T::id).collect();
        if let Some(pod) = &self.pod {
            let Some(slots) = (pod.reserve)(&mut self.queue, n) else {
                assert!(n > free, "reserve({n}) refused with {free} free slots");
                return;
            };
            assert_eq!(slots.len(), n);
            for (slot, v) in slots.iter_mut().zip(values) {
                *slot = v;
            }
            if c > w {
                // Committing unwritten (stale) Pod slots is allowed, but the model cannot
                // know their values: commit too many only, which must panic.
                if c > n {
                    assert_panics("cannot commit", || (pod.commit)(&mut self.queue, c));
                }
                return;
            }
            (pod.commit)(&mut self.queue, c);
        } else {
            let Some(slots) = self.queue.reserve_uninit(n) else {
                assert!(
                    n > free,
                    "reserve_uninit({n}) refused with {free} free slots"
                );
                return;
            };
            assert_eq!(slots.len(), n);
            for (slot, v) in slots.iter_mut().zip(values) {
                slot.write(v);
            }
            if c > n {
                // SAFETY: it panics before publishing anything.
                assert_panics("cannot commit", || unsafe { self.queue.commit_uninit(c) });
            }
            // Written but uncommitted values are forgotten by the queue; drop them here.
            if c > w {
                self.forget_written(n.min(w), 0);
                return;
            }
            self.forget_written(w, c);
            // SAFETY: the first `w >= c` slots were written above.
            unsafe { self.queue.commit_uninit(c) };
        }
        self.model.extend(ids.into_iter().take(c));
    }

    /// Drops the values in reserved slots `from..to` (written, never to be committed), as
    /// their owner: the test.
    fn forget_written(&mut self, to: usize, from: usize) {
        if from >= to {
            return;
        }
        let slots = self.queue.reserve_uninit(to).expect("still free");
        for slot in &mut slots[from..to] {
            // SAFETY: written just before by `reserve`, not committed, read out once.
            drop(unsafe { slot.assume_init_read() });
        }
    }

    fn stale_commit(&mut self, how: u8) {
        if self.queue.vacant_len() == 0 {
            return;
        }
        if let Some(pod) = &self.pod {
            let _ = (pod.reserve)(&mut self.queue, 1);
        } else {
            let _ = self.queue.reserve_uninit(1);
        }
        match how {
            0 => {
                if let Some(v) = self.queue.try_pop() {
                    assert_eq!(Some(v.id()), self.model.pop_front().map(T::key));
                }
            }
            1 => self.queue.release(0),
            2 => {
                let v = self.fresh();
                let id = v.id();
                assert!(self.queue.try_push(v).is_ok(), "a free slot");
                self.model.push_back(id);
            }
            _ => {
                // A failed reserve cancels the reservation.
                let cap = self.queue.capacity();
                assert!(self.queue.reserve_uninit(cap + 1).is_none());
            }
        }
        if let Some(pod) = &self.pod {
            assert_panics("cannot commit 1 slots: 0 were reserved", || {
                (pod.commit)(&mut self.queue, 1)
            });
        } else {
            // SAFETY: it panics before publishing anything.
            assert_panics("cannot commit 1 slots: 0 were reserved", || unsafe {
                self.queue.commit_uninit(1)
            });
        }
    }

    fn check(&self) {
        let q = &self.queue;
        assert_eq!(q.len(), self.model.len());
        assert_eq!(q.is_empty(), self.model.is_empty());
        assert_eq!(q.is_full(), self.model.len() == q.capacity());
        assert_eq!(q.vacant_len(), q.capacity() - q.len());
        assert_eq!(q.peek().len(), q.len());
        for (i, (v, &id)) in q.iter().zip(&self.model).enumerate() {
            assert_eq!(v.id(), T::key(id), "item {i}");
        }
        if let Some(&id) = self.model.back() {
            assert_eq!(q[q.len() - 1].id(), T::key(id));
        }
        assert!(q.get(q.len()).is_none());
    }

    fn finish(self) {
        let live: Vec<u64> = self.model.iter().copied().collect();
        if self.pod.is_none() {
            assert_ledger(live, "before drop");
        }
        let is_pod = self.pod.is_some();
        drop(self);
        if !is_pod {
            assert_ledger([], "after drop");
        }
    }
}

fn run<T: Elem>(pod: Option<PodOps<T>>, steps: impl IntoIterator<Item = (u8, u16, u16, u16)>) {
    reset_ledger();
    let mut run = Run::<T>::new(pod);
    for raw in steps {
        run.step(raw);
    }
    run.finish();
}

fn xorshift_steps(seed: u64, n: usize) -> Vec<(u8, u16, u16, u16)> {
    let mut rng = XorShift(seed | 1);
    (0..n)
        .map(|_| {
            let x = rng.next();
            (x as u8, (x >> 8) as u16, (x >> 24) as u16, (x >> 40) as u16)
        })
        .collect()
}

const STEPS: usize = if cfg!(miri) { 60 } else { 1500 };

macro_rules! model_tests {
    ($($name:ident: $t:ty, $pod:expr;)*) => {$(
        #[test]
        fn $name() {
            quiet();
            for seed in 0..if cfg!(miri) { 1 } else { 4 } {
                run::<$t>($pod, xorshift_steps(seed * 7919 + 1, STEPS));
            }
        }
    )*};
}

model_tests! {
    model_pod_1: E1, Some(pod_ops());
    model_pod_3: E3, Some(pod_ops());
    model_pod_12: E12, Some(pod_ops());
    model_pod_24: E24, Some(pod_ops());
    model_pod_48: E48, Some(pod_ops());
    model_pod_4100: E4100, Some(pod_ops());
    model_tracked_12: Tracked<4>, None;
    model_tracked_24: Tracked<16>, None;
    model_tracked_48: Tracked<40>, None;
    model_tracked_4100: Tracked<4092>, None;
}

fn steps() -> impl Strategy<Value = Vec<(u8, u16, u16, u16)>> {
    proptest::collection::vec(any::<(u8, u16, u16, u16)>(), 1..300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_pod_3(s in steps()) { quiet(); run::<E3>(Some(pod_ops()), s); }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_pod_48(s in steps()) { quiet(); run::<E48>(Some(pod_ops()), s); }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_pod_4100(s in steps()) { quiet(); run::<E4100>(Some(pod_ops()), s); }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_tracked_12(s in steps()) { quiet(); run::<Tracked<4>>(None, s); }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_tracked_4100(s in steps()) { quiet(); run::<Tracked<4092>>(None, s); }
}

// ---------------------------------------------------------------------------------------
// Checked counts and reservations
// ---------------------------------------------------------------------------------------

#[test]
fn counts_past_their_bounds_panic_and_change_nothing() {
    quiet();
    let mut q = PicoQueue::<u32>::new(16).unwrap();
    q.push_slice(&[1, 2, 3]);
    q.reserve(3).unwrap().copy_from_slice(&[4, 5, 6]);
    assert_panics("cannot commit 5 slots: 3 were reserved", || q.commit(5));
    assert_eq!(q.peek(), &[1, 2, 3]);
    q.commit(2);
    assert_eq!(q.peek(), &[1, 2, 3, 4, 5]);
    assert_panics("cannot commit 1 slots: 0 were reserved", || q.commit(1));
    assert_panics("cannot release 6 items: the queue holds 5", || q.release(6));
    assert_panics("index 5 is out of range for a queue of 5 items", || {
        q[5] = 0;
    });
    assert_eq!(q.peek(), &[1, 2, 3, 4, 5]);
    q.release(5);
    assert!(q.is_empty());
}

#[test]
fn uninit_reservations_need_the_unsafe_commit() {
    quiet();
    let mut q = PicoQueue::<u64>::new(16).unwrap();
    q.reserve_uninit(2).unwrap()[0].write(7);
    assert_panics(
        "cannot commit 1 slots: 0 were reserved with `reserve`",
        || q.commit(1),
    );
    // SAFETY: slot 0 was written above.
    unsafe { q.commit_uninit(1) };
    assert_eq!(q.peek(), &[7]);
    // After `reserve_uninit`, `reserve` zeroes the free slots again before lending them.
    assert!(q.reserve(q.vacant_len()).unwrap().iter().all(|&v| v == 0));
}

#[test]
fn the_last_reservation_wins() {
    let mut q = PicoQueue::<u8>::new(64).unwrap();
    q.reserve(10).unwrap().fill(1);
    q.reserve(2).unwrap().copy_from_slice(b"ab");
    assert_panics("cannot commit 3 slots: 2 were reserved", || q.commit(3));
    q.commit(2);
    assert_eq!(q.peek(), b"ab");
}

#[test]
fn a_new_queue_lends_zeroed_slots() {
    let mut q = PicoQueue::<u16>::new(1).unwrap();
    let cap = q.capacity();
    assert!(q.reserve(cap).unwrap().iter().all(|&v| v == 0));
    assert!(q.reserve(cap + 1).is_none());
}

#[test]
fn views_and_indexing_cross_the_physical_end() {
    let mut q = PicoQueue::<u32>::new(1).unwrap();
    let cap = q.capacity();
    q.push_slice(&vec![0; cap - 2]);
    q.release(cap - 2);
    let buf = q.reserve(5).unwrap();
    buf.copy_from_slice(&[10, 11, 12, 13, 14]);
    q.commit(5);
    assert_eq!(q.peek(), &[10, 11, 12, 13, 14]);
    q[3] = 99;
    for v in &mut q {
        *v += 1;
    }
    assert_eq!(
        (&q).into_iter().copied().collect::<Vec<_>>(),
        [11, 12, 13, 100, 15]
    );
    assert_eq!(format!("{q:?}"), "[11, 12, 13, 100, 15]");
    assert_eq!(q.try_pop(), Some(11));
    assert_eq!(q.into_iter().collect::<Vec<_>>(), [12, 13, 100, 15]);
}

#[test]
fn zero_sized_items() {
    let mut q = PicoQueue::<()>::new(5).unwrap();
    assert_eq!(q.capacity(), 5);
    assert_eq!(q.reserve(5).unwrap().len(), 5);
    q.commit(5);
    assert!(q.is_full());
    assert_eq!(q.try_push(()), Err(()));
    q.release(5);
    assert!(q.is_empty());
}

#[test]
fn static_capacity() {
    let q = PicoQueue::<f32, 4096>::new_static().unwrap();
    assert!(q.capacity() >= 4096);
}

#[test]
fn drop_drops_every_item_once() {
    reset_ledger();
    let mut q = PicoQueue::<Tracked<4>>::new(1).unwrap();
    let cap = q.capacity();
    for i in 0..cap as u64 {
        assert!(q.try_push(Tracked::make(i)).is_ok());
    }
    q.release(cap / 2);
    for i in 0..(cap / 2) as u64 {
        assert!(q.try_push(Tracked::make(cap as u64 + i)).is_ok());
    }
    assert_ledger(q.iter().map(Elem::id), "full, wrapped");
    drop(q);
    assert_ledger([], "dropped");
}
