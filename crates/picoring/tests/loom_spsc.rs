//! loom models of the SPSC queue: the index protocol across the wrap, the sleep/wake
//! handshake of the blocking calls, and what dropping a half does to a sleeping peer.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p picoring --release --test loom_spsc`.
//! Under loom the crate uses the heap backend, whose rings hold 4096 bytes: elements of
//! 2048 bytes give a capacity of 2, so three items wrap.

#![cfg(loom)]

use loom::thread;
use picoring::PicoSPSC;

/// An item big enough to make the ring two slots long; its first byte is its number.
#[derive(Clone, Copy)]
struct Big([u8; 2048]);

impl Big {
    fn new(n: u8) -> Big {
        let mut b = [0; 2048];
        b[0] = n;
        b[2047] = n;
        Big(b)
    }

    fn number(&self) -> u8 {
        assert_eq!(self.0[0], self.0[2047], "an item was torn");
        self.0[0]
    }
}

const ITEMS: u8 = 3;

#[test]
fn items_arrive_in_order_across_the_wrap() {
    loom::model(|| {
        let (mut producer, mut consumer) = PicoSPSC::<Big>::new(2).unwrap().split();
        assert_eq!(producer.capacity(), 2);
        let writer = thread::spawn(move || {
            for i in 0..ITEMS {
                let mut item = Big::new(i);
                while let Err(back) = producer.push(item) {
                    item = back;
                    thread::yield_now();
                }
            }
        });
        let mut next = 0;
        while next < ITEMS {
            match consumer.pop() {
                Some(item) => {
                    assert_eq!(item.number(), next);
                    next += 1;
                }
                None => thread::yield_now(),
            }
        }
        writer.join().unwrap();
    });
}

#[test]
fn readable_slice_and_advance_tail_hand_slots_back() {
    loom::model(|| {
        let (mut producer, mut consumer) = PicoSPSC::<Big>::new(2).unwrap().split();
        let writer = thread::spawn(move || {
            let mut sent = 0;
            while sent < ITEMS {
                let batch = [Big::new(sent), Big::new(sent + 1)];
                let n = producer.push_slice(&batch[..usize::from(ITEMS - sent).min(2)]);
                sent += n as u8;
                if n == 0 {
                    thread::yield_now();
                }
            }
        });
        let mut next = 0;
        while next < ITEMS {
            let slice = consumer.readable_slice();
            for item in slice {
                assert_eq!(item.number(), next);
                next += 1;
            }
            let n = slice.len();
            if n == 0 {
                thread::yield_now();
            }
            consumer.advance_tail(n);
        }
        writer.join().unwrap();
    });
}

#[test]
fn blocking_calls_wake_each_other() {
    loom::model(|| {
        let (mut producer, mut consumer) = PicoSPSC::<Big>::new(2).unwrap().split();
        let writer = thread::spawn(move || {
            for i in 0..ITEMS {
                assert!(producer.push_blocking(Big::new(i)).is_ok());
            }
        });
        for i in 0..ITEMS {
            assert_eq!(consumer.pop_blocking().map(|b| b.number()), Some(i));
        }
        writer.join().unwrap();
    });
}

#[test]
fn dropping_the_producer_wakes_the_consumer() {
    loom::model(|| {
        let (mut producer, mut consumer) = PicoSPSC::<Big>::new(2).unwrap().split();
        let writer = thread::spawn(move || {
            assert!(producer.push(Big::new(7)).is_ok());
            drop(producer);
        });
        assert_eq!(consumer.pop_blocking().map(|b| b.number()), Some(7));
        assert!(consumer.pop_blocking().is_none());
        assert!(consumer.is_abandoned());
        writer.join().unwrap();
    });
}

#[test]
fn dropping_the_consumer_wakes_the_producer() {
    loom::model(|| {
        let (mut producer, consumer) = PicoSPSC::<Big>::new(2).unwrap().split();
        let reader = thread::spawn(move || drop(consumer));
        // Two fit; the third waits until the consumer is gone, then comes back.
        let mut refused = 0;
        for i in 0..ITEMS {
            if producer.push_blocking(Big::new(i)).is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 1);
        assert!(producer.is_abandoned());
        reader.join().unwrap();
    });
}
