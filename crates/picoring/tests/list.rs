//! `PicoList`: a model test against a `Vec` with odd element sizes and drop-counting
//! values, panics in `Drop` and `Clone`, iterators across chunk boundaries, 10 M elements.

use std::panic::{self, AssertUnwindSafe};

use picoring::PicoList;
use proptest::prelude::*;

mod common;
use common::XorShift;
use common::elem::{
    CLONE_BASE, E1, E3, E12, E24, E48, E4100, Elem, Tracked, assert_ledger, panic_on_clone,
    panic_on_drop, reset_ledger,
};

fn quiet() {
    common::quiet_expected_panics(&["intentional panic", "index "]);
}

fn assert_panics(prefix: &str, f: impl FnOnce()) {
    let err = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    let msg = common::panic_message(&*err);
    assert!(msg.starts_with(prefix), "panic {msg:?} is not {prefix:?}");
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

struct Run<T: Elem, const C: usize> {
    list: PicoList<T, C>,
    /// The ids of the elements, as `T::id` reads them back.
    model: Vec<u64>,
    next: u64,
    tracked: bool,
}

impl<T: Elem + Clone + PartialEq, const C: usize> Run<T, C> {
    fn fresh(&mut self) -> T {
        self.next += 1;
        T::make(self.next - 1)
    }

    fn step(&mut self, (kind, a, b): (u8, u16, u16)) {
        let len = self.list.len();
        let some = |x: u16| match x % 5 {
            0 => len,
            1 => len + 1,
            _ => x as usize % (len + C + 2),
        };
        match kind % 14 {
            0..=3 => {
                for _ in 0..=a % (2 * C as u16 + 1) {
                    let v = self.fresh();
                    self.model.push(v.id());
                    self.list.push(v);
                }
            }
            4 => {
                let got = self.list.pop().map(|v| v.id());
                assert_eq!(got, self.model.pop());
            }
            5 | 6 => {
                let items: Vec<T> = (0..a as usize % (3 * C + 1))
                    .map(|_| self.fresh())
                    .collect();
                let at = b as usize % (items.len() + 1);
                if self.tracked && at < items.len() && b % 3 == 0 {
                    // The clone of `items[at]` panics: the clones before it stay.
                    panic_on_clone(Some(items[at].id()));
                    assert_panics("intentional panic", || self.list.extend_from_slice(&items));
                    panic_on_clone(None);
                    self.model
                        .extend(items[..at].iter().map(|v| v.id() + CLONE_BASE));
                } else {
                    self.list.extend_from_slice(&items);
                    let offset = if self.tracked { CLONE_BASE } else { 0 };
                    self.model
                        .extend(items.iter().map(|v| T::key(v.id() + offset)));
                }
            }
            7 => {
                let i = some(a);
                let v = self.fresh();
                let id = v.id();
                let ok = self.list.set(i, v);
                assert_eq!(ok, i < len);
                if ok {
                    self.model[i] = id;
                }
            }
            8 => {
                let i = some(a);
                if i < len {
                    let v = self.fresh();
                    self.model[i] = v.id();
                    self.list[i] = v;
                } else {
                    assert!(self.list.get(i).is_none() && self.list.get_mut(i).is_none());
                    assert_panics("index ", || {
                        let _ = &self.list[i];
                    });
                }
            }
            9 => {
                let n = some(a);
                if self.tracked && n < len && b % 2 == 0 {
                    // One removed element panics in `Drop`: the others are dropped anyway.
                    let victim = n + b as usize % (len - n);
                    panic_on_drop(Some(self.model[victim]));
                    assert_panics("intentional panic", || self.list.truncate(n));
                    panic_on_drop(None);
                } else {
                    self.list.truncate(n);
                }
                self.model.truncate(n);
            }
            10 => {
                if b % 8 == 0 {
                    self.list.clear();
                    self.model.clear();
                }
                if b % 8 == 1 {
                    self.list.shrink_to_fit();
                    assert_eq!(self.list.chunk_count(), self.list.len().div_ceil(C));
                }
            }
            11 => {
                // `nth` and `next_back` from both ends, across chunks.
                let mut it = self.list.iter();
                let mut model = self.model.iter();
                let n = some(a);
                assert_eq!(it.nth(n).map(Elem::id), model.nth(n).copied());
                assert_eq!(it.len(), model.len());
                let k = some(b);
                assert_eq!(it.nth_back(k).map(Elem::id), model.nth_back(k).copied());
                assert_eq!(it.len(), model.len());
                assert!(it.map(Elem::id).eq(model.copied()));
            }
            12 => {
                // Replace every `stride`-th element through `iter_mut` or `chunks_mut`.
                let stride = 1 + a as usize % 3;
                let fresh: Vec<T> = (0..len.div_ceil(stride)).map(|_| self.fresh()).collect();
                for (k, v) in fresh.iter().enumerate() {
                    self.model[k * stride] = v.id();
                }
                let mut fresh = fresh.into_iter();
                if b % 2 == 0 {
                    for item in self.list.iter_mut().step_by(stride) {
                        *item = fresh.next().unwrap();
                    }
                } else {
                    let mut i = 0;
                    for chunk in self.list.chunks_mut() {
                        for item in chunk {
                            if i % stride == 0 {
                                *item = fresh.next().unwrap();
                            }
                            i += 1;
                        }
                    }
                }
            }
            _ => {
                // A clone is equal; moving out part of it drops the rest once.
                let copy = self.list.clone();
                let offset = if self.tracked { CLONE_BASE } else { 0 };
                if !self.tracked {
                    assert!(copy == self.list);
                }
                assert!(
                    copy.iter()
                        .map(Elem::id)
                        .eq(self.model.iter().map(|&id| T::key(id + offset)))
                );
                let mut it = copy.into_iter();
                let take = some(a).min(len);
                for _ in 0..take / 2 {
                    it.next();
                    it.next_back();
                }
                assert_eq!(it.len(), len - 2 * (take / 2));
            }
        }
        let l = &self.list;
        assert_eq!(l.len(), self.model.len());
        assert_eq!(l.is_empty(), self.model.is_empty());
        assert!(l.chunk_count() * C >= l.len());
        assert_eq!(l.iter().len(), l.len());
        assert!(l.iter().map(Elem::id).eq(self.model.iter().copied()));
        assert!(
            l.iter()
                .rev()
                .map(Elem::id)
                .eq(self.model.iter().rev().copied())
        );
        let mut seen = 0;
        for (k, chunk) in l.chunks().enumerate() {
            assert!(chunk.len() == C || k == l.chunks().len() - 1);
            seen += chunk.len();
        }
        assert_eq!(seen, l.len());
    }
}

fn run<T: Elem + Clone + PartialEq, const C: usize>(
    tracked: bool,
    steps: impl IntoIterator<Item = (u8, u16, u16)>,
) {
    quiet();
    reset_ledger();
    let mut run = Run::<T, C> {
        list: PicoList::new(),
        model: Vec::new(),
        next: 0,
        tracked,
    };
    for step in steps {
        run.step(step);
    }
    if tracked {
        assert_ledger(run.model.iter().copied(), "before drop");
        drop(run.list);
        assert_ledger([], "after drop");
    }
}

fn xorshift(seed: u64, n: usize) -> Vec<(u8, u16, u16)> {
    let mut rng = XorShift(seed | 1);
    (0..n)
        .map(|_| {
            let x = rng.next();
            (x as u8, (x >> 8) as u16, (x >> 24) as u16)
        })
        .collect()
}

const STEPS: usize = if cfg!(miri) { 40 } else { 1500 };

macro_rules! model_tests {
    ($($name:ident: $t:ty, $chunk:literal, $tracked:literal;)*) => {$(
        #[test]
        fn $name() {
            for seed in 0..if cfg!(miri) { 1 } else { 3 } {
                run::<$t, $chunk>($tracked, xorshift(seed * 104_729 + 3, STEPS));
            }
        }
    )*};
}

model_tests! {
    model_pod_1: E1, 8, false;
    model_pod_3: E3, 4, false;
    model_pod_12: E12, 8, false;
    model_pod_24: E24, 2, false;
    model_pod_48: E48, 4, false;
    model_pod_4100: E4100, 4, false;
    model_tracked_12: Tracked<4>, 4, true;
    model_tracked_24: Tracked<16>, 1, true;
    model_tracked_48: Tracked<40>, 8, true;
    model_tracked_4100: Tracked<4092>, 2, true;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_pod_3(s in proptest::collection::vec(any::<(u8, u16, u16)>(), 1..200)) {
        run::<E3, 4>(false, s);
    }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_tracked_24(s in proptest::collection::vec(any::<(u8, u16, u16)>(), 1..200)) {
        run::<Tracked<16>, 8>(true, s);
    }

    #[test]
    #[cfg_attr(miri, ignore = "the xorshift runs cover Miri")]
    fn prop_tracked_4100(s in proptest::collection::vec(any::<(u8, u16, u16)>(), 1..100)) {
        run::<Tracked<4092>, 2>(true, s);
    }
}

// ---------------------------------------------------------------------------------------
// Scale, panics, zero-sized types
// ---------------------------------------------------------------------------------------

#[test]
fn ten_million_elements_across_chunk_boundaries() {
    const N: u64 = if cfg!(miri) { 5_000 } else { 10_000_000 };
    let mut list = PicoList::<u64, 128>::new();
    for i in 0..N {
        list.push(i);
    }
    assert_eq!(list.len() as u64, N);
    assert_eq!(list.chunk_count() as u64, N.div_ceil(128));
    for i in [0, 127, 128, 129, N / 2, N - 1] {
        assert_eq!(list[i as usize], i);
    }
    assert_eq!(list.iter().sum::<u64>(), N * (N - 1) / 2);
    assert_eq!(list.iter().nth(N as usize - 129), Some(&(N - 129)));
    assert_eq!(list.iter().rev().step_by(1000).next(), Some(&(N - 1)));
    for x in &mut list {
        *x += 1;
    }
    assert_eq!(list[127], 128);
    while list.len() > 1 {
        list.pop();
    }
    assert_eq!(list.pop(), Some(1));
}

#[test]
fn a_panicking_drop_drops_every_other_element_once() {
    quiet();
    reset_ledger();
    let list: PicoList<Tracked<4>, 4> = (0..23).map(Tracked::make).collect();
    panic_on_drop(Some(5));
    assert_panics("intentional panic", || drop(list));
    panic_on_drop(None);
    assert_ledger([], "after the drop");

    reset_ledger();
    let mut list: PicoList<Tracked<4>, 4> = (0..23).map(Tracked::make).collect();
    panic_on_drop(Some(9));
    assert_panics("intentional panic", || list.clear());
    panic_on_drop(None);
    assert!(list.is_empty());
    assert_ledger([], "after clear");

    reset_ledger();
    let list: PicoList<Tracked<4>, 4> = (0..23).map(Tracked::make).collect();
    let mut it = list.into_iter();
    assert_eq!(it.next().map(|v| v.id()), Some(0));
    panic_on_drop(Some(21));
    assert_panics("intentional panic", || drop(it));
    panic_on_drop(None);
    assert_ledger([], "after into_iter");
}

#[test]
fn a_panicking_clone_keeps_the_list_consistent() {
    quiet();
    reset_ledger();
    let items: Vec<Tracked<4>> = (0..10).map(Tracked::make).collect();
    let mut list = PicoList::<Tracked<4>, 4>::new();
    list.push(Tracked::make(100));
    panic_on_clone(Some(6));
    assert_panics("intentional panic", || list.extend_from_slice(&items));
    panic_on_clone(None);
    assert_eq!(list.len(), 7);
    let ids: Vec<u64> = list.iter().map(|v| v.id()).collect();
    assert_eq!(
        ids,
        [100, 0, 1, 2, 3, 4, 5].map(|i| if i == 100 { i } else { i + CLONE_BASE })
    );
    drop(list);
    drop(items);
    assert_ledger([], "all dropped");
}

#[test]
fn zero_sized_elements() {
    let mut list = PicoList::<(), 4>::new();
    for _ in 0..10 {
        list.push(());
    }
    assert_eq!(list.len(), 10);
    assert_eq!(list.capacity(), usize::MAX);
    assert_eq!(list.iter().count(), 10);
    assert_eq!(
        list.chunks().map(<[()]>::len).collect::<Vec<_>>(),
        [4, 4, 2]
    );
    assert_eq!(list.pop(), Some(()));
    assert_eq!(list.into_iter().count(), 9);
}

#[test]
fn indexing_iteration_and_traits() {
    quiet();
    let mut list = PicoList::<u32, 2>::with_capacity(5).unwrap();
    assert_eq!(list.chunk_count(), 3);
    list.extend([1, 2, 3, 4, 5].iter());
    assert_eq!(list.chunk_count(), 3, "with_capacity allocated every chunk");
    assert_eq!(list[4], 5);
    assert_panics("index 5 is out of range for a list of 5 elements", || {
        let _ = list[5];
    });
    assert_eq!(format!("{list:?}"), "[1, 2, 3, 4, 5]");
    assert_eq!(
        list.iter().rev().copied().collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );
    let mut it = list.iter();
    assert_eq!(it.nth(2), Some(&3));
    assert_eq!(it.next_back(), Some(&5));
    assert_eq!(it.len(), 1);
    let other: PicoList<u32, 2> = (1..=5).collect();
    assert_eq!(list, other);
    assert_eq!(PicoList::<u32, 2>::default(), PicoList::new());
    list.truncate(2);
    list.shrink_to_fit();
    assert_eq!(list.chunk_count(), 1);
    let v: Vec<u32> = list.into_iter().rev().collect();
    assert_eq!(v, [2, 1]);
}

/// Chunks of 64 KiB and more are carved from blocks of pages; shrinking returns whole
/// blocks and growing again carves the same places: the contents stay right throughout.
#[test]
fn big_chunks_grow_shrink_and_grow_again() {
    /// 4 KiB: sixteen make a 64 KiB chunk, which is mapped from the OS.
    #[derive(Clone, PartialEq, Debug)]
    struct Page([u32; 1024]);
    fn page(i: usize) -> Page {
        let mut p = Page([0; 1024]);
        p.0[0] = i as u32;
        p.0[1023] = !(i as u32);
        p
    }
    let check = |list: &PicoList<Page, 16>, n: usize| {
        assert_eq!(list.len(), n);
        for (i, p) in list.iter().enumerate() {
            assert!(
                p.0[0] == i as u32 && p.0[1023] == !(i as u32),
                "element {i}"
            );
        }
    };
    let n = 16 * 20 + 5;
    let mut list = PicoList::<Page, 16>::new();
    for i in 0..n {
        list.push(page(i));
    }
    check(&list, n);
    assert_eq!(list.chunk_count(), 21);
    list.truncate(16 * 3 + 1);
    list.shrink_to_fit();
    assert_eq!(list.chunk_count(), 4);
    check(&list, 16 * 3 + 1);
    for i in 16 * 3 + 1..n {
        list.push(page(i));
    }
    check(&list, n);
    let copy = list.clone();
    list.clear();
    list.shrink_to_fit();
    assert_eq!(list.chunk_count(), 0);
    list.extend(copy.iter().cloned());
    check(&list, n);
}
