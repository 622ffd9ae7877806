//! loom models of the MPSC protocol: claims across the physical end, per-run publication,
//! abandoned reservations, blocking waits and disconnection, drops.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p picoring --release --test loom_mpsc
//! ```
//!
//! Items are 1 KiB (2 KiB for a capacity of 2), so that the heap backend's 4 KiB page holds
//! a ring of 4 (2) slots. Inside the crate, loom checks every slot access for races against
//! the stamps and the tail, besides exploring every interleaving of the atomics.

#![cfg(loom)]

use std::sync::Arc as StdArc;

use loom::thread;
use picoring::{MpscConsumer, MpscProducer, create_mpsc};

/// A 1 KiB item: a ring of them has 4 slots. Every word is the same, so a torn or stale
/// copy is noticed.
#[derive(Clone, Copy, Debug)]
struct Item([u64; 128]);

/// A 2 KiB item: a ring of them has 2 slots.
#[derive(Clone, Copy, Debug)]
struct Wide([u64; 256]);

/// A 1 KiB item that holds a reference count.
#[derive(Debug)]
struct Counted(
    #[allow(dead_code)] StdArc<()>,
    #[allow(dead_code)] [u8; 1016],
);

fn item(p: u64, seq: u64) -> Item {
    Item([p << 8 | seq; 128])
}

fn read(item: &Item) -> (u64, u64) {
    let v = item.0[0];
    assert!(item.0.iter().all(|&w| w == v), "a torn item");
    (v >> 8, v & 0xff)
}

/// Checks per-producer order.
struct Orders(Vec<u64>);

impl Orders {
    fn see(&mut self, (p, seq): (u64, u64)) {
        assert_eq!(seq, self.0[p as usize], "producer {p} out of order");
        self.0[p as usize] += 1;
    }
}

/// Runs `f` under loom with a preemption bound (explicit, so the file stays fast).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// A queue of 4 `Item`s whose positions are moved to `start`, so that claims cross the
/// physical end.
fn queue_at(start: usize) -> (MpscProducer<Item>, MpscConsumer<Item>) {
    let (producer, mut consumer) = create_mpsc::<Item>(1).unwrap();
    assert_eq!(consumer.capacity(), 4);
    for _ in 0..start {
        producer.push(item(0, 0)).unwrap();
        consumer.pop().unwrap();
    }
    (producer, consumer)
}

#[test]
fn two_producers_claim_across_the_wrap() {
    model(|| {
        let (producer, mut consumer) = queue_at(3);
        let threads: Vec<_> = (0..2)
            .map(|p| {
                let producer = producer.clone();
                thread::spawn(move || {
                    for seq in 0..2 {
                        // Four items in a ring of four: never full.
                        producer.push(item(p, seq)).unwrap();
                    }
                })
            })
            .collect();
        drop(producer);
        let mut orders = Orders(vec![0; 2]);
        while let Some(v) = consumer.pop_blocking() {
            orders.see(read(&v));
        }
        assert_eq!(orders.0, [2, 2]);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn three_producers_and_disconnection() {
    model(|| {
        let (producer, mut consumer) = queue_at(2);
        let threads: Vec<_> = (0..3)
            .map(|p| {
                let producer = producer.clone();
                thread::spawn(move || producer.push(item(p, 0)).unwrap())
            })
            .collect();
        drop(producer);
        // One look while the producers run (a blocking drain here would multiply the
        // interleavings beyond reach): whatever is readable is whole.
        let mut orders = Orders(vec![0; 3]);
        let slice = consumer.readable_slice();
        for v in slice {
            orders.see(read(v));
        }
        let seen = slice.len();
        consumer.advance_tail(seen);
        for t in threads {
            t.join().unwrap();
        }
        assert!(!consumer.is_disconnected() || seen == 3);
        while let Some(v) = consumer.pop() {
            orders.see(read(&v));
        }
        assert_eq!(orders.0, [1, 1, 1]);
        assert!(consumer.is_disconnected());
    });
}

#[test]
fn an_abandoned_reservation_blocks_nobody() {
    model(|| {
        let (producer, mut consumer) = queue_at(3);
        let quitter = producer.clone();
        let a = thread::spawn(move || {
            let mut r = quitter.reserve(2).unwrap();
            r.as_mut_slice()[0].write(item(1, 0));
            drop(r); // a hole: written, but never committed
        });
        let b = thread::spawn(move || {
            producer.push(item(0, 0)).unwrap();
            producer.push(item(0, 1)).unwrap();
        });
        let mut orders = Orders(vec![0; 2]);
        let mut slices = 0;
        loop {
            let slice = consumer.readable_slice_blocking(1);
            if slice.is_empty() {
                break;
            }
            for v in slice {
                orders.see(read(v));
            }
            let n = slice.len();
            consumer.advance_tail(n);
            slices += 1;
        }
        assert!(slices >= 1);
        assert_eq!(
            orders.0,
            [2, 0],
            "the hole is skipped, nothing read from it"
        );
        assert!(consumer.is_disconnected());
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn batches_are_one_run_each_across_the_wrap() {
    model(|| {
        let (producer, mut consumer) = queue_at(3);
        let threads: Vec<_> = (0..2)
            .map(|p| {
                let producer = producer.clone();
                thread::spawn(move || {
                    let batch = [item(p, 0), item(p, 1)];
                    assert_eq!(producer.push_slice(&batch), 2);
                })
            })
            .collect();
        drop(producer);
        let mut orders = Orders(vec![0; 2]);
        loop {
            let slice = consumer.readable_slice_blocking(4);
            if slice.is_empty() {
                break;
            }
            // Runs are published whole: a batch is never split across two slices.
            assert_eq!(slice.len() % 2, 0);
            for pair in slice.chunks(2) {
                assert_eq!(read(&pair[0]).0, read(&pair[1]).0);
            }
            for v in slice {
                orders.see(read(v));
            }
            let n = slice.len();
            consumer.advance_tail(n);
        }
        assert_eq!(orders.0, [2, 2]);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn a_partial_commit_and_a_push_race() {
    model(|| {
        let (producer, mut consumer) = queue_at(2);
        let other = producer.clone();
        let a = thread::spawn(move || {
            let mut r = producer.reserve(2).unwrap();
            r.as_mut_slice()[0].write(item(1, 0));
            // SAFETY: the first slot was written.
            unsafe { r.commit(1) };
        });
        let b = thread::spawn(move || other.push(item(0, 0)).unwrap());
        let mut orders = Orders(vec![0; 2]);
        while let Some(v) = consumer.pop_blocking() {
            orders.see(read(&v));
        }
        assert_eq!(orders.0, [1, 1]);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn blocking_pushes_into_a_full_ring() {
    model(|| {
        let (producer, mut consumer) = create_mpsc::<Wide>(1).unwrap();
        assert_eq!(consumer.capacity(), 2);
        let other = producer.clone();
        let a = thread::spawn(move || {
            for seq in 0..2 {
                producer.push_blocking(Wide([seq; 256])).unwrap();
            }
        });
        let b = thread::spawn(move || other.push_blocking(Wide([100; 256])).unwrap());
        let mut seen = Vec::new();
        while let Some(v) = consumer.pop_blocking() {
            seen.push(v.0[255]);
        }
        assert_eq!(seen.len(), 3);
        let mine: Vec<u64> = seen.iter().copied().filter(|&v| v < 100).collect();
        assert_eq!(mine, [0, 1]);
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn items_left_inside_are_dropped_once() {
    model(|| {
        let token = StdArc::new(());
        let counted = || Counted(StdArc::clone(&token), [0; 1016]);
        let (producer, mut consumer) = create_mpsc::<Counted>(1).unwrap();
        assert_eq!(consumer.capacity(), 4);
        let other = producer.clone();
        let (c1, c2, c3) = (counted(), counted(), counted());
        let a = thread::spawn(move || {
            let _ = producer.push(c1);
            let _ = producer.push(c2);
        });
        let b = thread::spawn(move || {
            // Err once the consumer is gone: the value comes back and is dropped here.
            let _ = other.push_blocking(c3);
        });
        drop(consumer.pop());
        drop(consumer);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(StdArc::strong_count(&token), 1);
    });
}
