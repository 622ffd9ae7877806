//! `create_mpsc` under real threads: more producers than cores, batches across the wrap,
//! a producer that holds a reservation, abandoned reservations, and drops (public API only).
//!
//! The big runs are meant for `cargo test --release`; under Miri they are skipped, and in
//! debug builds they run with fewer items.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use picoring::{MpscConsumer, create_mpsc};

/// Producer `p`'s item number `seq`.
fn item(p: u64, seq: u64) -> u64 {
    (p << 40) | seq
}

/// Checks that every producer's items arrive complete and in order.
struct Orders(Vec<u64>);

impl Orders {
    fn new(producers: usize) -> Orders {
        Orders(vec![0; producers])
    }

    fn see(&mut self, v: u64) {
        let (p, seq) = ((v >> 40) as usize, v & ((1 << 40) - 1));
        assert_eq!(seq, self.0[p], "producer {p}: item {seq} out of order");
        self.0[p] += 1;
    }

    fn assert_all(&self, each: u64) {
        assert!(
            self.0.iter().all(|&n| n == each),
            "counts {:?}, {each} each",
            self.0
        );
    }
}

/// Drains `consumer` until every producer is gone, mixing `pop`, `pop_blocking` and slices.
fn drain(consumer: &mut MpscConsumer<u64>, orders: &mut Orders) -> u64 {
    let mut total = 0;
    let mut round = 0u32;
    loop {
        round = round.wrapping_add(1);
        match round % 3 {
            0 => match consumer.pop_blocking() {
                Some(v) => {
                    orders.see(v);
                    total += 1;
                }
                None => return total,
            },
            1 => {
                let slice = consumer.readable_slice_blocking(64);
                if slice.is_empty() && consumer.is_disconnected() {
                    return total;
                }
                // Consume part of the slice, to leave the tail mid-run now and then.
                let n = slice.len() - slice.len() / 4;
                for &v in &slice[..n] {
                    orders.see(v);
                }
                consumer.advance_tail(n);
                total += n as u64;
            }
            _ => {
                if let Some(v) = consumer.pop() {
                    orders.see(v);
                    total += 1;
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "hundreds of thousands of items")]
fn eight_producers_on_few_cores_finish_promptly() {
    const PRODUCERS: u64 = 8;
    let each: u64 = if cfg!(debug_assertions) {
        20_000
    } else {
        200_000
    };
    let start = Instant::now();
    let (producer, mut consumer) = create_mpsc::<u64>(1024).unwrap();
    thread::scope(|s| {
        for p in 0..PRODUCERS {
            let producer = producer.clone();
            s.spawn(move || {
                for seq in 0..each {
                    let v = item(p, seq);
                    if p % 2 == 0 {
                        producer.push_blocking(v).unwrap();
                    } else {
                        // Busy pushing: try, and yield while full.
                        while producer.push(v).is_err() {
                            thread::yield_now();
                        }
                    }
                }
            });
        }
        drop(producer);
        let mut orders = Orders::new(PRODUCERS as usize);
        assert_eq!(drain(&mut consumer, &mut orders), PRODUCERS * each);
        orders.assert_all(each);
    });
    let elapsed = start.elapsed();
    eprintln!("8 producers x {each} items: {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(60),
        "8 producers took {elapsed:?}: convoy?"
    );
}

#[test]
#[cfg_attr(miri, ignore = "hundreds of thousands of items")]
fn batches_of_1_to_64_from_4_producers_across_the_wrap() {
    const PRODUCERS: u64 = 4;
    let each: u64 = if cfg!(debug_assertions) {
        20_000
    } else {
        300_000
    };
    let (producer, mut consumer) = create_mpsc::<u64>(300).unwrap();
    let cap = consumer.capacity();
    let straddled = AtomicUsize::new(0);
    thread::scope(|s| {
        for p in 0..PRODUCERS {
            let producer = producer.clone();
            s.spawn(move || {
                let mut seq = 0;
                let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ p;
                let mut batch = Vec::with_capacity(64);
                while seq < each {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let len = (1 + rng % 64).min(each - seq);
                    batch.clear();
                    batch.extend((seq..seq + len).map(|i| item(p, i)));
                    let mut sent = 0;
                    while sent < batch.len() {
                        let n = producer.push_slice(&batch[sent..]);
                        if n == 0 {
                            thread::yield_now();
                        }
                        sent += n;
                    }
                    seq += len;
                }
            });
        }
        drop(producer);
        let mut orders = Orders::new(PRODUCERS as usize);
        let mut tail = 0;
        loop {
            // At least 64 items, or fewer once the producers are gone.
            let slice = consumer.readable_slice_blocking(64);
            if slice.is_empty() {
                assert!(consumer.is_disconnected());
                break;
            }
            if tail + slice.len() > cap {
                straddled.fetch_add(1, Ordering::Relaxed);
            }
            // Take an odd part of it, so that the tail stops anywhere, and leave some items
            // while the producers run, so that their next runs start anywhere too.
            let keep = if slice.len() >= 64 { 32 } else { 0 };
            let n = (slice.len() - keep).min(1 + tail % 97);
            for &v in &slice[..n] {
                orders.see(v);
            }
            tail = (tail + n) % cap;
            consumer.advance_tail(n);
        }
        orders.assert_all(each);
    });
    assert!(
        straddled.load(Ordering::Relaxed) > 10,
        "too few slices crossed the physical end: {straddled:?} in {} laps",
        4 * each / cap as u64
    );
}

#[test]
#[cfg_attr(miri, ignore = "threads that wait on each other for a while")]
fn a_producer_holding_a_reservation_blocks_nobody_until_the_ring_fills() {
    let (producer, mut consumer) = create_mpsc::<u64>(1).unwrap();
    let cap = consumer.capacity() as u64;
    let reserved = AtomicBool::new(false);
    let filled = AtomicUsize::new(0);
    let release = AtomicBool::new(false);
    thread::scope(|s| {
        let holder = producer.clone();
        let (reserved, filled, release) = (&reserved, &filled, &release);
        s.spawn(move || {
            let mut r = holder.reserve(1).unwrap();
            reserved.store(true, Ordering::Release);
            // Stand for a producer descheduled between claim and commit.
            while !release.load(Ordering::Acquire) {
                thread::sleep(Duration::from_millis(1));
            }
            r.as_mut_slice()[0].write(item(3, 0));
            // SAFETY: the slot was written.
            unsafe { r.commit(1) };
        });
        while !reserved.load(Ordering::Acquire) {
            thread::yield_now();
        }
        let others: Vec<_> = (0..3)
            .map(|p| {
                let producer = producer.clone();
                s.spawn(move || {
                    let mut seq = 0;
                    while producer.push(item(p, seq)).is_ok() {
                        seq += 1;
                        filled.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in others {
            t.join().unwrap();
        }
        // The others filled every slot but the reserved one, and none of them waited.
        assert_eq!(filled.load(Ordering::Relaxed) as u64, cap - 1);
        assert!(
            consumer.readable_slice().is_empty(),
            "the reservation is first"
        );
        release.store(true, Ordering::Release);
        let slice = consumer.readable_slice_blocking(cap as usize);
        assert_eq!(slice.len() as u64, cap);
        assert_eq!(slice[0], item(3, 0));
        let mut orders = Orders::new(4);
        for &v in slice {
            orders.see(v);
        }
        consumer.advance_tail(cap as usize);
    });
}

#[test]
#[cfg_attr(miri, ignore = "many threads and items")]
fn abandoned_and_partial_reservations_under_contention() {
    const PRODUCERS: u64 = 4;
    let each: u64 = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let (producer, mut consumer) = create_mpsc::<u64>(64).unwrap();
    thread::scope(|s| {
        for p in 0..PRODUCERS {
            let producer = producer.clone();
            s.spawn(move || {
                let mut seq = 0;
                let mut rng = 0x2545_f491_4f6c_dd1d_u64 ^ (p << 7);
                while seq < each {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let want = 1 + (rng % 16) as usize;
                    let Some(mut r) = producer.reserve(want) else {
                        thread::yield_now();
                        continue;
                    };
                    let k = match rng >> 60 {
                        0..4 => 0,                          // abandoned
                        4..8 => (rng >> 8) as usize % want, // partial
                        _ => want,                          // whole
                    }
                    .min((each - seq) as usize);
                    for (i, slot) in r.as_mut_slice()[..k].iter_mut().enumerate() {
                        slot.write(item(p, seq + i as u64));
                    }
                    // SAFETY: the first `k` slots were written.
                    unsafe { r.commit(k) };
                    seq += k as u64;
                }
            });
        }
        drop(producer);
        let mut orders = Orders::new(PRODUCERS as usize);
        assert_eq!(drain(&mut consumer, &mut orders), PRODUCERS * each);
        orders.assert_all(each);
    });
}

#[test]
#[cfg_attr(miri, ignore = "many threads and items")]
fn every_arc_is_dropped_once_when_the_consumer_leaves_early() {
    let token = Arc::new(());
    let (producer, mut consumer) = create_mpsc::<Arc<()>>(64).unwrap();
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..4 {
            let (producer, token, stop) = (producer.clone(), &token, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match producer.push_timeout(Arc::clone(token), Duration::from_millis(1)) {
                        Ok(()) => {}
                        Err(e) if producer.is_disconnected() => {
                            drop(e.into_inner());
                            break;
                        }
                        Err(e) => drop(e.into_inner()),
                    }
                }
            });
        }
        drop(producer);
        for _ in 0..10_000 {
            drop(consumer.pop_blocking());
        }
        let n = consumer.readable_slice().len() / 2;
        consumer.advance_tail(n);
        drop(consumer);
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(Arc::strong_count(&token), 1);
}

#[test]
#[cfg_attr(miri, ignore = "threads parked on each other")]
fn dropping_the_consumer_wakes_blocked_producers() {
    let (producer, consumer) = create_mpsc::<u64>(1).unwrap();
    while producer.push(0).is_ok() {}
    thread::scope(|s| {
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let producer = producer.clone();
                s.spawn(move || producer.push_blocking(1))
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        drop(consumer);
        for w in waiters {
            assert_eq!(w.join().unwrap(), Err(1));
        }
    });
}
