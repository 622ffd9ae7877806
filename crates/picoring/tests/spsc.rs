//! `PicoSPSC`: a model test against a `VecDeque`, ownership, checked counts, and the
//! blocking, timed and async waits (public API only).

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use picoring::spsc::{Consumer, Producer};
use picoring::{PicoSPSC, PopTimeoutError, PushTimeoutError, create_spsc};
use proptest::prelude::*;

mod common;
use common::elem::*;

fn quiet_expected_panics() {
    common::quiet_expected_panics(&["intentional panic", "cannot advance"]);
}

// ---------------------------------------------------------------------------------------
// The model test
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Op {
    Push,
    PushSlice(usize),
    Chunk(usize),
    Pop,
    PopSlice(usize),
    Advance(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Push),
        (0..3000usize).prop_map(Op::PushSlice),
        (0..3000usize).prop_map(Op::Chunk),
        Just(Op::Pop),
        (0..3000usize).prop_map(Op::PopSlice),
        (0..3000usize).prop_map(Op::Advance),
    ]
}

/// Drives both halves from one thread and compares them with a `VecDeque` after each step.
fn run<T: Elem + Copy + PartialEq>(ops: &[Op]) {
    let (mut tx, mut rx) = create_spsc::<T>(1).unwrap();
    let cap = tx.capacity();
    let mut model = VecDeque::new();
    let mut next = 0u64;
    let mut fresh = |n: usize| -> Vec<T> {
        (0..n)
            .map(|_| {
                next += 1;
                T::make(next)
            })
            .collect()
    };
    for &op in ops {
        match op {
            Op::Push => {
                let v = fresh(1)[0];
                let full = model.len() == cap;
                assert_eq!(tx.push(v).is_err(), full);
                if !full {
                    model.push_back(v);
                }
            }
            Op::PushSlice(n) => {
                let values = fresh(n % (cap + 2));
                let k = tx.push_slice(&values);
                assert_eq!(k, values.len().min(cap - model.len()));
                model.extend(&values[..k]);
            }
            Op::Chunk(n) => {
                let values = fresh(n % (cap + 2));
                let chunk = tx.write_chunk();
                assert_eq!(chunk.len(), cap - model.len());
                let k = chunk.fill_from_iter(values.iter().copied());
                model.extend(&values[..k]);
            }
            Op::Pop => assert_eq!(rx.pop(), model.pop_front()),
            Op::PopSlice(n) => {
                let mut buf = vec![T::make(0); n % (cap + 2)];
                let k = rx.pop_slice(&mut buf);
                assert_eq!(k, buf.len().min(model.len()));
                for v in &buf[..k] {
                    assert_eq!(Some(*v), model.pop_front());
                }
            }
            Op::Advance(n) => {
                let n = n % (model.len() + 1);
                rx.advance_tail(n);
                model.drain(..n);
            }
        }
        assert_eq!(rx.len(), model.len());
        assert_eq!(tx.free_len(), cap - model.len());
        assert!(rx.readable_slice().iter().eq(model.iter()));
    }
}

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn ops(&mut self, count: usize) -> Vec<Op> {
        (0..count)
            .map(|_| {
                let n = self.below(3000);
                match self.below(6) {
                    0 => Op::Push,
                    1 => Op::PushSlice(n),
                    2 => Op::Chunk(n),
                    3 => Op::Pop,
                    4 => Op::PopSlice(n),
                    _ => Op::Advance(n),
                }
            })
            .collect()
    }
}

macro_rules! model_tests {
    ($($name:ident: $t:ty,)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
                #[test]
                #[cfg_attr(miri, ignore)]
                fn matches_a_vecdeque(ops in proptest::collection::vec(op(), 1..60)) {
                    run::<$t>(&ops);
                }
            }

            #[test]
            fn long_run_wraps_many_times() {
                let steps = if cfg!(miri) { 60 } else { 4000 };
                run::<$t>(&XorShift(0x9e37_79b9_7f4a_7c15).ops(steps));
            }
        }
    )*};
}

model_tests! {
    e1: E1,
    e3: E3,
    e12: E12,
    e24: E24,
    e48: E48,
    e4100: E4100,
    zst: Zst,
}

// ---------------------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------------------

/// Counts its drops in a shared counter; panics when dropped if `boom`.
struct Counted {
    drops: Arc<AtomicUsize>,
    boom: bool,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.boom {
            panic!("intentional panic in drop");
        }
    }
}

fn counted(drops: &Arc<AtomicUsize>) -> Counted {
    Counted {
        drops: Arc::clone(drops),
        boom: false,
    }
}

#[test]
fn items_left_inside_are_dropped_once_whichever_half_goes_last() {
    for consumer_last in [false, true] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = create_spsc::<Counted>(1).unwrap();
        let cap = tx.capacity();
        // Wrap the indices, then leave a wrapping run of items inside.
        for _ in 0..cap - 2 {
            tx.push(counted(&drops)).ok().unwrap();
        }
        rx.advance_tail(cap - 2);
        for _ in 0..cap {
            tx.push(counted(&drops)).ok().unwrap();
        }
        drop(rx.pop());
        assert_eq!(drops.load(Ordering::SeqCst), cap - 1);
        if consumer_last {
            drop(tx);
            assert_eq!(drops.load(Ordering::SeqCst), cap - 1);
            drop(rx);
        } else {
            drop(rx);
            drop(tx);
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2 * cap - 2);
    }
}

#[test]
fn a_panicking_drop_in_advance_tail_drops_the_rest_and_frees_the_slots() {
    quiet_expected_panics();
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = create_spsc::<Counted>(8).unwrap();
    for i in 0..6 {
        let mut c = counted(&drops);
        c.boom = i == 2;
        tx.push(c).ok().unwrap();
    }
    let err = panic::catch_unwind(AssertUnwindSafe(|| rx.advance_tail(4))).unwrap_err();
    assert_eq!(common::panic_message(&*err), "intentional panic in drop");
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(rx.len(), 2);
    assert_eq!(tx.free_len(), tx.capacity() - 2);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::SeqCst), 6);
}

#[test]
fn advancing_past_the_readable_items_panics_and_changes_nothing() {
    quiet_expected_panics();
    let (mut tx, mut rx) = create_spsc::<u32>(16).unwrap();
    tx.push_slice(&[1, 2, 3]);
    let err = panic::catch_unwind(AssertUnwindSafe(|| rx.advance_tail(4))).unwrap_err();
    assert_eq!(
        common::panic_message(&*err),
        "cannot advance the tail by 4 items: the queue holds 3"
    );
    assert_eq!(rx.readable_slice(), &[1, 2, 3]);
}

#[test]
fn a_chunk_commit_past_its_length_panics_and_publishes_nothing() {
    common::quiet_expected_panics(&["cannot commit"]);
    let (mut tx, rx) = create_spsc::<u8>(16).unwrap();
    let cap = tx.capacity();
    let err = panic::catch_unwind(AssertUnwindSafe(|| {
        let chunk = tx.write_chunk();
        // SAFETY: never reached: the count is refused before anything is read.
        unsafe { chunk.commit(cap + 1) };
    }))
    .unwrap_err();
    assert!(common::panic_message(&*err).starts_with("cannot commit"));
    assert!(rx.is_empty());
}

#[test]
fn zero_capacity_is_an_error() {
    assert!(matches!(
        PicoSPSC::<u8>::new(0),
        Err(picoring::Error::ZeroCapacity)
    ));
}

#[test]
fn halves_are_send_and_report_their_peer() {
    fn send<T: Send>(_: &T) {}
    let (tx, rx) = create_spsc::<String>(4).unwrap();
    send(&tx);
    send(&rx);
    assert!(!tx.is_abandoned() && !rx.is_abandoned());
    drop(rx);
    assert!(tx.is_abandoned());
    let (tx, rx) = create_spsc::<String>(4).unwrap();
    drop(tx);
    assert!(rx.is_abandoned());
    assert!(format!("{rx:?}").contains("is_abandoned: true"));
}

// ---------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------

fn fill(tx: &mut Producer<u64>) {
    while tx.push(0).is_ok() {}
}

#[test]
fn timed_calls_time_out_and_report_disconnection() {
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    let short = Duration::from_millis(20);
    let start = Instant::now();
    assert_eq!(rx.pop_timeout(short), Err(PopTimeoutError::Timeout));
    assert!(start.elapsed() >= short);
    fill(&mut tx);
    assert_eq!(tx.push_timeout(5, short), Err(PushTimeoutError::Timeout(5)));
    drop(rx);
    assert_eq!(
        tx.push_timeout(6, short),
        Err(PushTimeoutError::Disconnected(6))
    );
    assert_eq!(tx.push_blocking(7), Err(7));

    let (tx, mut rx) = create_spsc::<u64>(1).unwrap();
    drop(tx);
    assert_eq!(rx.pop_timeout(short), Err(PopTimeoutError::Disconnected));
    assert_eq!(rx.pop_blocking(), None);
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_sleeping_consumer_is_woken_by_a_push_and_by_a_drop() {
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    let reader = thread::spawn(move || {
        let first = rx.pop_blocking();
        let second = rx.pop_blocking();
        (first, second)
    });
    thread::sleep(Duration::from_millis(50));
    tx.push(1).unwrap();
    thread::sleep(Duration::from_millis(50));
    drop(tx);
    assert_eq!(reader.join().unwrap(), (Some(1), None));
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_sleeping_producer_is_woken_by_a_pop_and_by_a_drop() {
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    fill(&mut tx);
    let writer = thread::spawn(move || {
        let first = tx.push_blocking(1);
        fill(&mut tx);
        let second = tx.push_blocking(2);
        (first, second)
    });
    thread::sleep(Duration::from_millis(50));
    rx.pop().unwrap();
    thread::sleep(Duration::from_millis(50));
    drop(rx);
    assert_eq!(writer.join().unwrap(), (Ok(()), Err(2)));
}

#[test]
fn blocking_transfer_in_order_through_a_small_ring() {
    let count = if cfg!(miri) { 300 } else { 200_000 };
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    let writer = thread::spawn(move || {
        for i in 0..count {
            tx.push_blocking(i).unwrap();
        }
    });
    for i in 0..count {
        assert_eq!(rx.pop_blocking(), Some(i));
    }
    assert_eq!(rx.pop_blocking(), None);
    writer.join().unwrap();
}

#[test]
fn readable_slice_blocking_waits_for_a_batch_or_the_end() {
    let (mut tx, rx) = create_spsc::<u8>(4096).unwrap();
    let writer = thread::spawn(move || {
        for b in b"hello world" {
            tx.push(*b).unwrap();
        }
    });
    assert!(rx.readable_slice_blocking(5).len() >= 5);
    writer.join().unwrap();
    // The producer is gone: fewer than asked for, at once.
    assert_eq!(rx.readable_slice_blocking(100), b"hello world");
}

/// Wakes a thread blocked in [`block_on`].
struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// A minimal executor: polls `f`, parking the thread between wake-ups.
fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        thread::park();
    }
}

#[test]
fn async_push_and_pop_wake_each_other() {
    let count = if cfg!(miri) { 300 } else { 100_000 };
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    let writer = thread::spawn(move || {
        block_on(async {
            for i in 0..count {
                tx.push_async(i).await.unwrap();
            }
        })
    });
    block_on(async {
        for i in 0..count {
            assert_eq!(rx.pop_async().await, Some(i));
        }
        assert_eq!(rx.pop_async().await, None);
    });
    writer.join().unwrap();
}

#[test]
fn a_dropped_future_leaves_no_registration_and_no_item() {
    let (mut tx, rx): (Producer<String>, Consumer<String>) = create_spsc(1).unwrap();
    while tx.push(String::new()).is_ok() {}
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    {
        let mut fut = pin!(tx.push_async("late".to_string()));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(rx.len(), rx.capacity());
    assert!(rx.readable_slice().iter().all(String::is_empty));
}

#[cfg(not(miri))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_under_tokio() {
    let (mut tx, mut rx) = create_spsc::<u64>(1).unwrap();
    let writer = tokio::spawn(async move {
        for i in 0..50_000 {
            tx.push_async(i).await.unwrap();
        }
    });
    for i in 0..50_000 {
        assert_eq!(rx.pop_async().await, Some(i));
    }
    writer.await.unwrap();
}
