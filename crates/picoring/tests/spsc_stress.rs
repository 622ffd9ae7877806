//! Release-mode stress of `PicoSPSC` between two threads: every item arrives once, in order,
//! intact, across many laps of the ring, with single items, batches, chunks and an element
//! size that does not divide the page. The sequence checks, not timings, are the assertions.
//!
//! These take seconds optimised and much longer in a debug build, so they run in
//! `cargo test --release`.

#![cfg(not(miri))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use picoring::create_spsc;

#[test]
#[cfg_attr(debug_assertions, ignore = "optimised builds only")]
fn ten_million_u64_one_by_one() {
    const COUNT: u64 = 10_000_000;
    let (mut tx, mut rx) = create_spsc::<u64>(1024).unwrap();
    let writer = thread::spawn(move || {
        for i in 0..COUNT {
            let mut v = i;
            while let Err(back) = tx.push(v) {
                v = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut expected = 0;
    while expected < COUNT {
        match rx.pop() {
            Some(v) => {
                assert_eq!(v, expected);
                expected += 1;
            }
            None => std::hint::spin_loop(),
        }
    }
    writer.join().unwrap();
    assert!(rx.is_empty());
}

/// 24 bytes: 4096 / 24 is not whole, so the ring is 512 slots of 3 pages, and batches
/// straddle the physical end at every offset.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Rec {
    seq: u64,
    check: u64,
    pad: u64,
}

impl Rec {
    fn new(seq: u64) -> Rec {
        Rec {
            seq,
            check: seq.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            pad: !seq,
        }
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "optimised builds only")]
fn odd_sized_records_in_batches_across_the_wrap() {
    const COUNT: u64 = 10_000_000;
    let (mut tx, mut rx) = create_spsc::<Rec>(1).unwrap();
    assert_eq!(tx.capacity(), 512);
    let writer = thread::spawn(move || {
        let mut next = 0;
        let mut batch = Vec::new();
        let mut round = 0usize;
        while next < COUNT {
            round += 1;
            let size = 1 + round * 7 % 97;
            if round % 3 == 0 {
                // In place, through the chunk.
                let end = (next + size as u64).min(COUNT);
                let n = tx.write_chunk().fill_from_iter((next..end).map(Rec::new));
                next += n as u64;
            } else {
                batch.clear();
                batch.extend((next..(next + size as u64).min(COUNT)).map(Rec::new));
                next += tx.push_slice(&batch) as u64;
            }
        }
    });
    let mut expected = 0;
    let mut round = 0usize;
    while expected < COUNT {
        round += 1;
        let slice = rx.readable_slice();
        let take = slice.len().min(1 + round * 13 % 200);
        for r in &slice[..take] {
            assert_eq!(*r, Rec::new(expected));
            expected += 1;
        }
        rx.advance_tail(take);
    }
    writer.join().unwrap();
}

/// Counts its drops; the items are heap values, so a double drop or a leak shows.
struct Counted(Box<u64>, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
#[cfg_attr(debug_assertions, ignore = "optimised builds only")]
fn boxed_items_are_dropped_exactly_once() {
    const COUNT: u64 = 2_000_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = create_spsc::<Counted>(100).unwrap();
    let d = Arc::clone(&drops);
    let writer = thread::spawn(move || {
        for i in 0..COUNT {
            tx.push_blocking(Counted(Box::new(i), Arc::clone(&d)))
                .ok()
                .unwrap();
        }
        // Leave some inside: the last half to go drops them.
        for i in 0..50 {
            tx.push_blocking(Counted(Box::new(i), Arc::clone(&d)))
                .ok()
                .unwrap();
        }
    });
    let mut expected = 0;
    while expected < COUNT {
        if expected % 2 == 0 {
            let item = rx.pop_blocking().unwrap();
            assert_eq!(*item.0, expected);
            expected += 1;
        } else {
            let slice = rx.readable_slice_blocking(1);
            let n = slice.len().min((COUNT - expected) as usize);
            for (k, item) in slice[..n].iter().enumerate() {
                assert_eq!(*item.0, expected + k as u64);
            }
            expected += n as u64;
            rx.advance_tail(n);
        }
    }
    writer.join().unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), COUNT as usize);
    drop(rx);
    assert_eq!(drops.load(Ordering::Relaxed), COUNT as usize + 50);
}
