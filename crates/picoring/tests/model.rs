//! Model-based tests: random sequences of operations applied both to a `PicoRing` and to a
//! `VecDeque` model, compared after every step (public API only).
//!
//! Capacities are the smallest a ring can have (`with_capacity(1)` and friends) and every
//! operation size is proportional to the capacity, so a sequence wraps the physical end of
//! the ring many times. `long_run_wraps_many_times` (one per element size) checks that
//! claim with a deterministic xorshift driver, which also runs under Miri.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::mem::size_of;
use std::panic::{self, AssertUnwindSafe};

use picoring::PicoRing;

mod common;
use proptest::prelude::*;

use common::elem::*;

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

/// A count relative to some total (the capacity, the length, the free slots...).
#[derive(Clone, Copy, Debug)]
enum Amount {
    Few(usize),
    All,
    AllMinus1,
    AllPlus1,
    /// `total * permille / 1000`, up to 1.6 times the total.
    Permille(usize),
}

impl Amount {
    fn of(self, total: usize) -> usize {
        match self {
            Amount::Few(n) => n,
            Amount::All => total,
            Amount::AllMinus1 => total.saturating_sub(1),
            Amount::AllPlus1 => total + 1,
            Amount::Permille(p) => total * p / 1000,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Push,
    Pop,
    /// Pops `n` of the length (+1 at most: popping an empty ring is tried too).
    PopMany(Amount),
    PushOverwrite,
    /// `n` of the capacity, so possibly longer than the free space or the capacity.
    PushSlice {
        n: Amount,
        via_chunk: bool,
    },
    /// `Some(n)`: `n` of the capacity; `None`: an endless iterator.
    FillFromIter(Option<Amount>),
    /// Writes `write` of the free slots through `as_mut_slice`, commits `commit` of those.
    CommitRaw {
        write: Amount,
        commit: Amount,
    },
    /// Writes `n` of the free slots, then drops the chunk without committing.
    Abandon(Amount),
    /// `n` of the length.
    AdvanceTail(Amount),
    /// `advance_tail(len + 1 + extra)`: must panic and leave the ring unchanged.
    AdvanceTooFar(usize),
    /// Fills the whole chunk, then `commit(len + 1)`: must panic and commit nothing.
    CommitTooMany,
    Clear,
    /// Replaces every `stride`-th item, starting at `start`, through `readable_slice_mut`
    /// (`how == 0`), `iter_mut` (1) or `&mut ring` (2), and then at once, before the
    /// check (which reads the whole ring), does `then`.
    Mutate {
        start: usize,
        stride: usize,
        how: u8,
        then: Then,
    },
    /// Extends with `n` of the capacity, by value or by reference.
    Extend {
        n: Amount,
        by_ref: bool,
    },
}

/// What follows a mutation through a mutable view, unchecked: the ring's next operation
/// must see the mutated items (the heap backend copies them to their twin lazily).
#[derive(Clone, Copy, Debug)]
enum Then {
    Nothing,
    Pop(Amount),
    AdvanceTail(Amount),
    Push,
    PushOverwrite,
    PushSlice(Amount),
    FillFromIter(Amount),
    CommitRaw(Amount),
    Extend(Amount),
    /// Mutates every item again.
    Mutate,
}

impl Then {
    fn op(self) -> Option<Op> {
        Some(match self {
            Then::Nothing => return None,
            Then::Pop(n) => Op::PopMany(n),
            Then::AdvanceTail(n) => Op::AdvanceTail(n),
            Then::Push => Op::Push,
            Then::PushOverwrite => Op::PushOverwrite,
            Then::PushSlice(n) => Op::PushSlice {
                n,
                via_chunk: false,
            },
            Then::FillFromIter(n) => Op::FillFromIter(Some(n)),
            Then::CommitRaw(n) => Op::CommitRaw {
                write: n,
                commit: Amount::All,
            },
            Then::Extend(n) => Op::Extend { n, by_ref: false },
            Then::Mutate => Op::Mutate {
                start: 0,
                stride: 1,
                how: 0,
                then: Then::Nothing,
            },
        })
    }
}

fn then() -> impl Strategy<Value = Then> {
    prop_oneof![
        2 => Just(Then::Nothing),
        4 => amount().prop_map(Then::Pop),
        2 => amount().prop_map(Then::AdvanceTail),
        1 => Just(Then::Push),
        1 => Just(Then::PushOverwrite),
        1 => amount().prop_map(Then::PushSlice),
        1 => amount().prop_map(Then::FillFromIter),
        1 => amount().prop_map(Then::CommitRaw),
        1 => amount().prop_map(Then::Extend),
        1 => Just(Then::Mutate),
    ]
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        3 => (0usize..4).prop_map(Amount::Few),
        1 => Just(Amount::All),
        1 => Just(Amount::AllMinus1),
        1 => Just(Amount::AllPlus1),
        5 => (0usize..=1600).prop_map(Amount::Permille),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Push),
        3 => Just(Op::Pop),
        2 => amount().prop_map(Op::PopMany),
        3 => Just(Op::PushOverwrite),
        4 => (amount(), any::<bool>()).prop_map(|(n, via_chunk)| Op::PushSlice { n, via_chunk }),
        3 => proptest::option::weighted(0.8, amount()).prop_map(Op::FillFromIter),
        3 => (amount(), amount()).prop_map(|(write, commit)| Op::CommitRaw { write, commit }),
        1 => amount().prop_map(Op::Abandon),
        5 => amount().prop_map(Op::AdvanceTail),
        1 => (0usize..3).prop_map(Op::AdvanceTooFar),
        1 => Just(Op::CommitTooMany),
        1 => Just(Op::Clear),
        3 => (0usize..4, 1usize..5, 0u8..3, then())
            .prop_map(|(start, stride, how, then)| Op::Mutate { start, stride, how, then }),
        3 => (amount(), any::<bool>()).prop_map(|(n, by_ref)| Op::Extend { n, by_ref }),
    ]
}

/// A deterministic generator of the same operations, for the plain and the Miri runs.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }

    fn amount(&mut self) -> Amount {
        match self.below(11) {
            0..=2 => Amount::Few(self.below(4)),
            3 => Amount::All,
            4 => Amount::AllMinus1,
            5 => Amount::AllPlus1,
            _ => Amount::Permille(self.below(1601)),
        }
    }

    fn then(&mut self) -> Then {
        // The same weights as `then()`: 15 in all.
        match self.below(15) {
            0..=1 => Then::Nothing,
            2..=5 => Then::Pop(self.amount()),
            6..=7 => Then::AdvanceTail(self.amount()),
            8 => Then::Push,
            9 => Then::PushOverwrite,
            10 => Then::PushSlice(self.amount()),
            11 => Then::FillFromIter(self.amount()),
            12 => Then::CommitRaw(self.amount()),
            13 => Then::Extend(self.amount()),
            _ => Then::Mutate,
        }
    }

    fn op(&mut self) -> Op {
        // The same weights as `op()`: 38 in all.
        match self.below(38) {
            0..=3 => Op::Push,
            4..=6 => Op::Pop,
            7..=8 => Op::PopMany(self.amount()),
            9..=11 => Op::PushOverwrite,
            12..=15 => Op::PushSlice {
                n: self.amount(),
                via_chunk: self.below(2) == 0,
            },
            16..=18 => Op::FillFromIter((self.below(5) != 0).then(|| self.amount())),
            19..=21 => Op::CommitRaw {
                write: self.amount(),
                commit: self.amount(),
            },
            22 => Op::Abandon(self.amount()),
            23..=27 => Op::AdvanceTail(self.amount()),
            28 => Op::AdvanceTooFar(self.below(3)),
            29 => Op::CommitTooMany,
            30 => Op::Clear,
            31..=33 => Op::Mutate {
                start: self.below(4),
                stride: 1 + self.below(4),
                how: self.below(3) as u8,
                then: self.then(),
            },
            _ => Op::Extend {
                n: self.amount(),
                by_ref: self.below(2) == 0,
            },
        }
    }
}

fn xorshift_ops(seed: u64, count: usize) -> Vec<Op> {
    let mut rng = XorShift(seed | 1);
    (0..count).map(|_| rng.op()).collect()
}

// ---------------------------------------------------------------------------------------
// The model check
// ---------------------------------------------------------------------------------------

/// What a run went through, to show that it really wrapped.
#[derive(Debug, Default)]
struct Stats {
    /// Items that entered the ring (their slots are `pushed % capacity`).
    pushed: u64,
    /// Items that left it, by pop, eviction, advance or clear.
    popped: u64,
    /// Checks at which the items straddled the physical end.
    straddled_views: usize,
    /// Write chunks whose free slots straddled the physical end.
    straddled_chunks: usize,
}

struct Run<T: Elem + Copy + PartialEq, const N: usize> {
    ring: PicoRing<T, N>,
    model: VecDeque<T>,
    cap: usize,
    /// The next counter for `T::make`.
    next: u64,
    /// Address of slot 0 (`None` for zero-sized types, whose addresses mean nothing).
    base: Option<usize>,
    stats: Stats,
}

impl<T: Elem + Copy + PartialEq, const N: usize> Run<T, N> {
    fn new(ring: PicoRing<T, N>) -> Self {
        assert!(ring.is_empty(), "a new ring is empty");
        let cap = ring.capacity();
        assert!(cap >= 1);
        // A fresh ring's (empty) view starts at slot 0.
        let base = (size_of::<T>() != 0).then(|| ring.readable_slice().as_ptr() as usize);
        Run {
            ring,
            model: VecDeque::with_capacity(cap),
            cap,
            next: 0,
            base,
            stats: Stats::default(),
        }
    }

    fn fresh(&mut self) -> T {
        let v = T::make(self.next);
        self.next += 1;
        v
    }

    fn fresh_vec(&mut self, n: usize) -> Vec<T> {
        (0..n).map(|_| self.fresh()).collect()
    }

    /// Pops the model's oldest item, as the ring just did.
    fn model_pop(&mut self) -> Option<T> {
        let v = self.model.pop_front();
        if v.is_some() {
            self.stats.popped += 1;
        }
        v
    }

    fn model_push(&mut self, v: T) {
        assert!(
            self.model.len() < self.cap,
            "model overflow: bad test logic"
        );
        self.model.push_back(v);
        self.stats.pushed += 1;
    }

    /// Checks the slot at which a chunk's free slots start (the head) and counts whether
    /// they straddle the physical end.
    fn check_chunk_start(&mut self, start: *const T, len: usize) {
        if self.window_straddles(start, self.stats.pushed, len, "the free slots", "head") {
            self.stats.straddled_chunks += 1;
        }
    }

    /// Asserts that a window of `len` slots starts at slot `counter % capacity` of the first
    /// copy, and tells whether it runs into the second copy.
    fn window_straddles(
        &self,
        start: *const T,
        counter: u64,
        len: usize,
        what: &str,
        end: &str,
    ) -> bool {
        let slot = (counter % self.cap as u64) as usize;
        if let Some(base) = self.base {
            let offset = start as usize - base;
            assert_eq!(
                offset,
                slot * size_of::<T>(),
                "{what} do not start at the {end} slot {slot}"
            );
        }
        slot + len > self.cap
    }

    fn apply(&mut self, op: Op) {
        self.step(op);
        self.check(Some(op));
    }

    /// Applies `op` to the ring and the model, checking its return values.
    fn step(&mut self, op: Op) {
        let len = self.model.len();
        let vacant = self.cap - len;
        match op {
            Op::Push => {
                let v = self.fresh();
                match self.ring.push(v) {
                    Ok(()) => {
                        assert!(len < self.cap, "push succeeded on a full ring");
                        self.model_push(v);
                    }
                    Err(back) => {
                        assert_eq!(len, self.cap, "push refused with {len} items");
                        assert_eq!(back, v, "push gave back another value");
                    }
                }
            }
            Op::Pop => {
                let expected = self.model_pop();
                assert_eq!(self.ring.pop(), expected, "pop");
            }
            Op::PopMany(n) => {
                for _ in 0..n.of(len).min(len + 1) {
                    let expected = self.model_pop();
                    assert_eq!(self.ring.pop(), expected, "pop");
                }
            }
            Op::PushOverwrite => {
                let v = self.fresh();
                let evicted = if len == self.cap {
                    self.model_pop()
                } else {
                    None
                };
                self.model_push(v);
                assert_eq!(self.ring.push_overwrite(v), evicted, "push_overwrite");
            }
            Op::PushSlice { n, via_chunk } => {
                let data = self.fresh_vec(n.of(self.cap));
                let copied = if via_chunk {
                    let mut chunk = self.ring.write_chunk();
                    assert_eq!(chunk.len(), vacant, "write_chunk().len()");
                    let start = chunk.as_mut_slice().as_ptr().cast::<T>();
                    let copied = chunk.copy_from_slice(&data);
                    self.check_chunk_start(start, vacant);
                    copied
                } else {
                    self.ring.push_slice(&data)
                };
                assert_eq!(copied, data.len().min(vacant), "push_slice count");
                for &v in &data[..copied] {
                    self.model_push(v);
                }
            }
            Op::FillFromIter(n) => {
                let first = self.next;
                let mut pulled = 0usize;
                let mut chunk = self.ring.write_chunk();
                assert_eq!(chunk.len(), vacant, "write_chunk().len()");
                assert_eq!(chunk.is_empty(), vacant == 0, "write_chunk().is_empty()");
                let start = chunk.as_mut_slice().as_ptr().cast::<T>();
                let items = (first..).map(|i| {
                    pulled += 1;
                    T::make(i)
                });
                let (filled, offered) = match n {
                    Some(n) => {
                        let n = n.of(self.cap);
                        (chunk.fill_from_iter(items.take(n)), n)
                    }
                    None => (chunk.fill_from_iter(items), usize::MAX),
                };
                assert_eq!(filled, offered.min(vacant), "fill_from_iter count");
                assert_eq!(
                    pulled, filled,
                    "fill_from_iter pulled items it did not keep"
                );
                self.check_chunk_start(start, vacant);
                for i in 0..filled as u64 {
                    self.model_push(T::make(first + i));
                }
                self.next = first + filled as u64;
            }
            Op::CommitRaw { write, commit } => {
                let first = self.next;
                let mut chunk = self.ring.write_chunk();
                let slots = chunk.as_mut_slice();
                assert_eq!(slots.len(), vacant, "as_mut_slice().len()");
                let (start, slots_len) = (slots.as_ptr().cast::<T>(), slots.len());
                let written = write.of(vacant).min(vacant);
                for (i, slot) in slots[..written].iter_mut().enumerate() {
                    slot.write(T::make(first + i as u64));
                }
                let committed = commit.of(written).min(written);
                // SAFETY: the first `written >= committed` slots were initialised just above.
                unsafe { chunk.commit(committed) };
                self.check_chunk_start(start, slots_len);
                for i in 0..committed as u64 {
                    self.model_push(T::make(first + i));
                }
                self.next = first + written as u64;
            }
            Op::Abandon(n) => {
                let first = self.next;
                let mut chunk = self.ring.write_chunk();
                let slots = chunk.as_mut_slice();
                let start = slots.as_ptr().cast::<T>();
                let written = n.of(vacant).min(vacant);
                for (i, slot) in slots[..written].iter_mut().enumerate() {
                    slot.write(T::make(first + i as u64));
                }
                drop(chunk);
                self.check_chunk_start(start, vacant);
                self.next = first + written as u64;
            }
            Op::AdvanceTail(n) => {
                let k = n.of(len).min(len);
                self.ring.advance_tail(k);
                for _ in 0..k {
                    self.model_pop();
                }
            }
            Op::AdvanceTooFar(extra) => {
                let k = len + 1 + extra;
                let ring = &mut self.ring;
                let result = panic::catch_unwind(AssertUnwindSafe(|| ring.advance_tail(k)));
                assert!(
                    result.is_err(),
                    "advance_tail({k}) with {len} items did not panic"
                );
            }
            Op::CommitTooMany => {
                let first = self.next;
                let mut chunk = self.ring.write_chunk();
                let slots = chunk.as_mut_slice();
                for (i, slot) in slots.iter_mut().enumerate() {
                    slot.write(T::make(first + i as u64));
                }
                let result = panic::catch_unwind(AssertUnwindSafe(move || {
                    // SAFETY: every slot of the chunk was initialised just above; `commit`
                    // panics on `n > len` before it publishes anything.
                    unsafe { chunk.commit(vacant + 1) }
                }));
                assert!(
                    result.is_err(),
                    "commit({}) of {vacant} slots did not panic",
                    vacant + 1
                );
                self.next = first + vacant as u64;
            }
            Op::Clear => {
                self.ring.clear();
                for _ in 0..len {
                    self.model_pop();
                }
            }
            Op::Mutate {
                start,
                stride,
                how,
                then,
            } => {
                let picks: Vec<usize> = (start..len).step_by(stride).collect();
                let values = self.fresh_vec(picks.len());
                for (&i, &v) in picks.iter().zip(&values) {
                    self.model[i] = v;
                }
                let mut values = values.into_iter();
                let mut set = |i: usize, x: &mut T| {
                    if i >= start && (i - start) % stride == 0 {
                        *x = values
                            .next()
                            .expect("the ring yielded more items than len()");
                    }
                };
                match how {
                    0 => {
                        let view = self.ring.readable_slice_mut();
                        assert_eq!(view.len(), len, "readable_slice_mut().len()");
                        view.iter_mut().enumerate().for_each(|(i, x)| set(i, x));
                    }
                    1 => self
                        .ring
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, x)| set(i, x)),
                    _ => {
                        for (i, x) in (&mut self.ring).into_iter().enumerate() {
                            set(i, x);
                        }
                    }
                }
                assert!(
                    values.next().is_none(),
                    "the ring yielded fewer items than len()"
                );
                if let Some(op) = then.op() {
                    self.step(op);
                }
            }
            Op::Extend { n, by_ref } => {
                let data = self.fresh_vec(n.of(self.cap));
                for &v in &data {
                    if self.model.len() == self.cap {
                        self.model_pop();
                    }
                    self.model_push(v);
                }
                if by_ref {
                    self.ring.extend(data.iter());
                } else {
                    self.ring.extend(data.iter().copied());
                }
            }
        }
    }

    /// Compares the ring with the model; `op` (`None` for a new ring) is the last operation.
    fn check(&mut self, op: Option<Op>) {
        let len = self.model.len();
        let ring = &self.ring;
        assert_eq!(ring.capacity(), self.cap, "capacity changed after {op:?}");
        assert_eq!(ring.len(), len, "len after {op:?}");
        assert_eq!(ring.is_empty(), len == 0, "is_empty after {op:?}");
        assert_eq!(ring.is_full(), len == self.cap, "is_full after {op:?}");
        assert_eq!(ring.vacant_len(), self.cap - len, "vacant_len after {op:?}");

        let view = ring.readable_slice();
        assert_eq!(view.len(), len, "readable_slice().len() after {op:?}");
        if !view.iter().eq(self.model.iter()) {
            let i = view
                .iter()
                .zip(&self.model)
                .position(|(a, b)| a != b)
                .unwrap_or(len);
            panic!(
                "readable_slice() differs from the model at index {i} of {len} after {op:?} \
                 ({} pushed, {} popped, capacity {}):\n ring: {:?}\nmodel: {:?}",
                self.stats.pushed,
                self.stats.popped,
                self.cap,
                view.get(i),
                self.model.get(i)
            );
        }
        assert!(ring.iter().eq(self.model.iter()), "iter() after {op:?}");
        let mut expected = self.model.iter();
        for x in ring {
            assert_eq!(Some(x), expected.next(), "(&ring).into_iter() after {op:?}");
        }
        assert_eq!(
            expected.next(),
            None,
            "(&ring).into_iter() ended early after {op:?}"
        );
        if len <= 8 && size_of::<T>() <= 12 {
            assert_eq!(
                format!("{ring:?}"),
                format!("{:?}", self.model),
                "Debug after {op:?}"
            );
        }

        // Where the items are: the oldest sits in slot `popped % capacity` (the tail only
        // ever moves forward, one slot per item), and the view starts there, in the first
        // copy, running into the second one when it straddles the physical end.
        let what = format!("after {op:?}, the items");
        if self.window_straddles(view.as_ptr(), self.stats.popped, len, &what, "tail") {
            self.stats.straddled_views += 1;
        }
    }

    /// Consumes the ring through `IntoIter`, comparing with the model, and returns the
    /// statistics.
    fn finish(self) -> Stats {
        let mut items = self.ring.into_iter();
        assert_eq!(items.len(), self.model.len(), "IntoIter::len");
        assert_eq!(
            items.size_hint(),
            (self.model.len(), Some(self.model.len()))
        );
        if self.model.len() <= 8 && size_of::<T>() <= 12 {
            assert_eq!(
                format!("{items:?}"),
                format!("IntoIter({:?})", self.model),
                "IntoIter's Debug"
            );
        }
        for (i, expected) in self.model.iter().enumerate() {
            assert_eq!(items.next().as_ref(), Some(expected), "IntoIter item {i}");
        }
        assert_eq!(items.next(), None, "IntoIter after the last item");
        assert_eq!(items.next(), None, "IntoIter is fused");
        self.stats
    }
}

fn run<T: Elem + Copy + PartialEq, const N: usize>(ring: PicoRing<T, N>, ops: &[Op]) -> Stats {
    common::quiet_expected_panics(&["cannot advance the tail", "cannot commit"]);
    let mut run = Run::new(ring);
    run.check(None);
    for &op in ops {
        run.apply(op);
    }
    run.finish()
}

/// Proptest cases per element size: fewer for big elements (a 4100-byte ring holds 4 MiB).
/// Under Miri the proptest tests are ignored (too slow); `--ignored` runs 2 cases.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 2 } else { cases },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Operations per deterministic run, and the minimum number of laps and straddling views
/// it must show.
fn long_run() -> (usize, u64) {
    if cfg!(miri) { (150, 8) } else { (500, 30) }
}

macro_rules! model_tests {
    ($($name:ident: $ty:ty, $make:expr, cases $cases:expr;)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config($cases))]

                #[test]
                #[cfg_attr(
                    miri,
                    ignore = "proptest takes ~45 s per case under Miri; long_run_* runs the same model check"
                )]
                fn matches_a_vecdeque(ops in proptest::collection::vec(op(), 1..40)) {
                    run($make, &ops);
                }
            }

            #[test]
            fn long_run_wraps_many_times() {
                let (count, min_laps) = long_run();
                let ring = $make;
                let cap = ring.capacity() as u64;
                // FNV-1a of the test's name: every instance gets its own sequence.
                let seed = stringify!($name).bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
                let stats = run(ring, &xorshift_ops(seed, count));
                assert!(
                    stats.pushed / cap >= min_laps && stats.popped / cap >= min_laps - 1,
                    "head or tail went round fewer than {min_laps} times: {stats:?}, capacity {cap}"
                );
                if cap > 1 {
                    // With one slot nothing can straddle; every push crosses the end instead.
                    assert!(
                        stats.straddled_views as u64 >= min_laps,
                        "too few views straddled the physical end: {stats:?}, capacity {cap}"
                    );
                    assert!(
                        stats.straddled_chunks as u64 >= min_laps / 2,
                        "too few chunks straddled the physical end: {stats:?}, capacity {cap}"
                    );
                }
            }
        }
    )*};
}

fn ring<T>(request: usize) -> PicoRing<T> {
    match PicoRing::with_capacity(request) {
        Ok(ring) => ring,
        Err(err) => panic!("with_capacity({request}) failed: {err}"),
    }
}

model_tests! {
    size_1: E1, ring::<E1>(1), cases 128;
    size_3: E3, ring::<E3>(1), cases 128;
    size_5: E5, ring::<E5>(1), cases 128;
    size_12: E12, ring::<E12>(1), cases 128;
    size_24: E24, ring::<E24>(1), cases 128;
    size_48: E48, ring::<E48>(1), cases 128;
    size_100: E100, ring::<E100>(1), cases 96;
    size_4096: E4096, ring::<E4096>(1), cases 128;
    size_4100: E4100, ring::<E4100>(1), cases 24;
    // A ring sized at compile time, rounded up from 100 slots.
    size_12_static: E12, match PicoRing::<E12, 100>::new() {
        Ok(ring) => ring,
        Err(err) => panic!("PicoRing::<E12, 100>::new() failed: {err}"),
    }, cases 64;
    // Zero-sized items: capacity exactly 7, addresses meaningless.
    size_0: Zst, ring::<Zst>(7), cases 128;
}

/// The capacities the tests rely on: the smallest ring of each element size.
#[test]
fn the_smallest_capacities_are_as_expected() {
    let g = picoring::granularity();
    let lcm = |size: usize| {
        let (mut a, mut b) = (size, g);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        size / a * g
    };
    assert_eq!(ring::<E1>(1).capacity(), lcm(1));
    assert_eq!(ring::<E3>(1).capacity(), lcm(3) / 3);
    assert_eq!(ring::<E12>(1).capacity(), lcm(12) / 12);
    assert_eq!(ring::<E100>(1).capacity(), lcm(100) / 100);
    assert_eq!(ring::<E4096>(1).capacity(), lcm(4096) / 4096);
    assert_eq!(ring::<E4100>(1).capacity(), lcm(4100) / 4100);
    assert_eq!(ring::<Zst>(7).capacity(), 7);
    if g == 4096 {
        assert_eq!(ring::<E1>(1).capacity(), 4096);
        assert_eq!(ring::<E12>(1).capacity(), 1024);
        assert_eq!(ring::<E4096>(1).capacity(), 1);
    }
}
