//! Many producers, one consumer: `create_mpsc` against crossbeam's `ArrayQueue` and
//! `crossbeam-channel`'s bounded channel, moving `u64`s.
//!
//! ```text
//! cargo bench -p picoring --bench mpsc
//! ```
//!
//! * `mpsc_4p_single`: 4 producers push single items, the consumer pops them one by one.
//! * `mpsc_4p_batch64`: 4 producers push batches of 64; picoring publishes each batch with
//!   one claim (`push_slice`) and the consumer takes whatever is readable as one slice
//!   (`readable_slice` + `advance_tail`); the peers carry `[u64; 64]` messages.
//! * `mpsc_1p_single`: 1 producer, so producer and consumer run at once on the two cores.
//! * `mpsc_8p_single`: 8 producers, more threads than this machine's cores.
//! * `fill_then_drain`: one producer thread fills the queue with single items, then the
//!   consumer, on another CPU, drains it, 16 times; only the fills and drains are timed.
//!   The sides never work at once, so this is what each costs per item when the items'
//!   cache lines come from the other core, without the two sides on neighbouring slots.
//!
//! Each case also has a reference row, `spsc_1_producer`: the same items through picoring's
//! SPSC queue from one producer thread, which pushes what the case's producers would, one
//! producer's share after another. It does the case's work without the claims and with no
//! more threads than a two-CPU machine has, so it shows about the most that machine can move
//! in that case, whatever the queue.
//!
//! The batch case has a second reference row, `bare_handoff`: no queue at all, one producer
//! thread copying each batch into a plain buffer and publishing a head, the consumer
//! publishing a tail. It is the least work any queue can do to move those batches between
//! two threads, so its rate is this machine's ceiling for the case.
//!
//! Every queue holds 65,536 items (1,024 messages of 64). Full and empty queues are waited
//! on the same way for picoring and `ArrayQueue` (spin, then yield); the channel blocks.
//! After criterion's runs, one more pass runs every case in turn, round after round, and
//! prints medians, ranges and ratios from that same pass, since a shared host drifts.

#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

mod common;

use std::cell::UnsafeCell;
use std::hint::spin_loop;
use std::ptr;
use std::slice;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use crossbeam_queue::ArrayQueue;
use crossbeam_utils::CachePadded;

use common::{Spread, rotating_rounds, two_threads};

const CAPACITY: usize = 65536;
const BATCH: usize = 64;

/// The items of one transfer, for each workload.
const SINGLE_ITEMS: u64 = 1 << 20;
const BATCH_ITEMS: u64 = 1 << 22;

/// Spins a little, then yields: what a waiting thread does here.
fn wait(spins: &mut u32) {
    if *spins < 64 {
        spin_loop();
        *spins += 1;
    } else {
        thread::yield_now();
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Peer {
    Picoring,
    Array,
    Channel,
    /// picoring's SPSC queue and one producer thread: the same items, no claims.
    Spsc,
    /// No queue: one producer thread, a buffer, a head and a tail ([`Handoff`]).
    Bare,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Picoring => "picoring",
            Peer::Array => "ArrayQueue",
            Peer::Channel => "channel_bounded",
            Peer::Spsc => "spsc_1_producer",
            Peer::Bare => "bare_handoff",
        }
    }
}

/// Pushes producer `p`'s `each` items, waiting while `push` hands them back.
fn push_each(p: u64, each: u64, mut push: impl FnMut(u64) -> Result<(), u64>) {
    for i in 0..each {
        let mut v = p << 40 | i;
        let mut spins = 0;
        while let Err(back) = push(v) {
            v = back;
            wait(&mut spins);
        }
    }
}

/// Sends producer `p`'s `batches` batches, waiting while `send` takes none; `send` returns
/// how many items of its slice it took.
fn send_batches(p: u64, batches: u64, mut send: impl FnMut(&[u64]) -> usize) {
    for b in 0..batches {
        let batch = make_batch(p, b);
        let mut sent = 0;
        let mut spins = 0;
        while sent < BATCH {
            let n = send(&batch[sent..]);
            if n == 0 {
                wait(&mut spins);
            }
            sent += n;
        }
    }
}

/// Pops `total` items one by one, waiting while `pop` has none; returns their sum.
fn sum_pops(total: u64, mut pop: impl FnMut() -> Option<u64>) -> u64 {
    let mut sum = 0u64;
    for _ in 0..total {
        let mut spins = 0;
        loop {
            if let Some(v) = pop() {
                sum = sum.wrapping_add(v);
                break;
            }
            wait(&mut spins);
        }
    }
    sum
}

/// Takes `total` items, waiting while `take` finds none; `take` adds what it finds to the
/// sum and returns how many it took. Returns the sum.
fn sum_takes(total: u64, mut take: impl FnMut(&mut u64) -> usize) -> u64 {
    let mut sum = 0u64;
    let mut left = total;
    while left > 0 {
        let mut spins = 0;
        loop {
            let n = take(&mut sum);
            if n > 0 {
                left -= n as u64;
                break;
            }
            wait(&mut spins);
        }
    }
    sum
}

fn add_all(sum: u64, items: &[u64]) -> u64 {
    items.iter().fold(sum, |a, &v| a.wrapping_add(v))
}

/// Adds every item of `items` to `sum`; returns how many there were.
fn add_slice(sum: &mut u64, items: &[u64]) -> usize {
    *sum = add_all(*sum, items);
    items.len()
}

/// One transfer of `total` single items from `producers` threads; returns its duration.
fn single(queue: Peer, producers: u64, total: u64) -> Duration {
    let each = total / producers;
    let start = Instant::now();
    let sum = match queue {
        Peer::Picoring => {
            let (tx, mut rx) = picoring::create_mpsc::<u64>(CAPACITY).unwrap();
            thread::scope(|s| {
                for p in 0..producers {
                    let tx = tx.clone();
                    s.spawn(move || push_each(p, each, |v| tx.push(v)));
                }
                drop(tx);
                sum_pops(each * producers, || rx.pop())
            })
        }
        Peer::Array => {
            let q = ArrayQueue::<u64>::new(CAPACITY);
            thread::scope(|s| {
                for p in 0..producers {
                    let q = &q;
                    s.spawn(move || push_each(p, each, |v| q.push(v)));
                }
                sum_pops(each * producers, || q.pop())
            })
        }
        Peer::Channel => {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            thread::scope(|s| {
                for p in 0..producers {
                    let tx = tx.clone();
                    s.spawn(move || {
                        for i in 0..each {
                            tx.send(p << 40 | i).unwrap();
                        }
                    });
                }
                drop(tx);
                rx.iter().fold(0u64, u64::wrapping_add)
            })
        }
        Peer::Spsc => {
            let (mut tx, mut rx) = picoring::create_spsc::<u64>(CAPACITY).unwrap();
            thread::scope(|s| {
                s.spawn(move || {
                    for p in 0..producers {
                        push_each(p, each, |v| tx.push(v));
                    }
                });
                sum_pops(each * producers, || rx.pop())
            })
        }
        Peer::Bare => unreachable!("{BARE_ONLY}"),
    };
    let elapsed = start.elapsed();
    assert_eq!(sum, expected_sum(producers, each));
    elapsed
}

/// One transfer of `total` items in batches of 64 from 4 producers.
fn batch64(queue: Peer, total: u64) -> Duration {
    let producers = 4;
    let batches = total / producers / BATCH as u64;
    let items = batches * producers * BATCH as u64;
    let start = Instant::now();
    let sum = match queue {
        Peer::Picoring => {
            let (tx, mut rx) = picoring::create_mpsc::<u64>(CAPACITY).unwrap();
            thread::scope(|s| {
                for p in 0..producers {
                    let tx = tx.clone();
                    s.spawn(move || send_batches(p, batches, |b| tx.push_slice(b)));
                }
                drop(tx);
                sum_takes(items, |sum| {
                    let n = add_slice(sum, rx.readable_slice());
                    rx.advance_tail(n);
                    n
                })
            })
        }
        Peer::Array => {
            let q = ArrayQueue::<[u64; BATCH]>::new(CAPACITY / BATCH);
            thread::scope(|s| {
                for p in 0..producers {
                    let q = &q;
                    s.spawn(move || {
                        for b in 0..batches {
                            let mut batch = make_batch(p, b);
                            let mut spins = 0;
                            while let Err(back) = q.push(batch) {
                                batch = back;
                                wait(&mut spins);
                            }
                        }
                    });
                }
                sum_takes(items, |sum| {
                    q.pop().map_or(0, |batch| add_slice(sum, &batch))
                })
            })
        }
        Peer::Channel => {
            let (tx, rx) = crossbeam_channel::bounded::<[u64; BATCH]>(CAPACITY / BATCH);
            thread::scope(|s| {
                for p in 0..producers {
                    let tx = tx.clone();
                    s.spawn(move || {
                        for b in 0..batches {
                            tx.send(make_batch(p, b)).unwrap();
                        }
                    });
                }
                drop(tx);
                rx.iter().fold(0u64, |sum, batch| add_all(sum, &batch))
            })
        }
        Peer::Spsc => {
            let (mut tx, mut rx) = picoring::create_spsc::<u64>(CAPACITY).unwrap();
            thread::scope(|s| {
                s.spawn(move || {
                    for p in 0..producers {
                        send_batches(p, batches, |b| tx.push_slice(b));
                    }
                });
                sum_takes(items, |sum| {
                    let n = add_slice(sum, rx.readable_slice());
                    rx.advance_tail(n);
                    n
                })
            })
        }
        Peer::Bare => {
            let mut handoff = Handoff::new();
            let (mut tx, mut rx) = handoff.split();
            thread::scope(|s| {
                s.spawn(move || {
                    for p in 0..producers {
                        send_batches(p, batches, |b| tx.send(b));
                    }
                });
                sum_takes(items, |sum| rx.take(sum))
            })
        }
    };
    let elapsed = start.elapsed();
    assert_eq!(sum, expected_sum(producers, batches * BATCH as u64));
    elapsed
}

/// Why a case other than the batch case has no `bare_handoff` row.
const BARE_ONLY: &str = "the bare hand-off moves whole batches only";

/// The least a queue can do to move batches from one thread to another, for the
/// `bare_handoff` row: a buffer of `CAPACITY` items, the position after the last batch
/// written (`head`, published by the sender) and after the last item read (`tail`,
/// published by the receiver). Batches of `BATCH` items never straddle the buffer's end,
/// since `CAPACITY` is a multiple of `BATCH`.
struct Handoff {
    items: Box<[UnsafeCell<u64>]>,
    head: CachePadded<AtomicUsize>,
    tail: CachePadded<AtomicUsize>,
}

// SAFETY: the items are only reached through the one `BareSender` and the one
// `BareReceiver` that `Handoff::split` lends out (it borrows the hand-off mutably). The sender
// writes only slots from `head` to `tail + CAPACITY`, which the receiver does not read; the
// receiver reads only slots before `head`. Slots change hands by Release stores and Acquire
// loads of `head` and `tail`.
unsafe impl Sync for Handoff {}

impl Handoff {
    fn new() -> Handoff {
        const { assert!(CAPACITY % BATCH == 0) };
        Handoff {
            items: (0..CAPACITY).map(|_| UnsafeCell::new(0)).collect(),
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
        }
    }

    /// The sending and the receiving end, which go on from where earlier ones stopped; the
    /// mutable borrow makes each the only one.
    fn split(&mut self) -> (BareSender<'_>, BareReceiver<'_>) {
        let head = *self.head.get_mut();
        let tail = *self.tail.get_mut();
        let handoff = &*self;
        let tx = BareSender {
            handoff,
            head,
            tail,
        };
        (tx, BareReceiver { handoff, tail })
    }
}

/// The sending end of a [`Handoff`], with its own copies of `head` and of the last `tail`
/// it saw.
struct BareSender<'a> {
    handoff: &'a Handoff,
    head: usize,
    tail: usize,
}

impl BareSender<'_> {
    /// Sends `batch`, which must be a whole batch, if there is room for it; returns how many
    /// items it sent (all or none).
    fn send(&mut self, batch: &[u64]) -> usize {
        assert_eq!(batch.len(), BATCH, "the bare hand-off sends whole batches");
        if self.head + BATCH - self.tail > CAPACITY {
            // Acquire: pairs with the receiver's Release store; its reads of these slots
            // are done.
            self.tail = self.handoff.tail.load(Ordering::Acquire);
            if self.head + BATCH - self.tail > CAPACITY {
                return 0;
            }
        }
        let at = self.head % CAPACITY;
        let slots = &self.handoff.items[at..at + BATCH];
        // SAFETY: the slots from `head` on, up to `tail + CAPACITY`, belong to the sender
        // (see `Handoff`), and `slots` is `BATCH` of them, in bounds since `at` is a multiple
        // of `BATCH`; `UnsafeCell` allows writing through a shared reference.
        unsafe {
            ptr::copy_nonoverlapping(batch.as_ptr(), UnsafeCell::raw_get(slots.as_ptr()), BATCH);
        }
        self.head += BATCH;
        // Release: pairs with the receiver's Acquire load; the batch is written before.
        self.handoff.head.store(self.head, Ordering::Release);
        BATCH
    }
}

/// The receiving end of a [`Handoff`].
struct BareReceiver<'a> {
    handoff: &'a Handoff,
    tail: usize,
}

impl BareReceiver<'_> {
    /// Adds every item sent so far and not yet taken to `sum`, hands their slots back, and
    /// returns how many there were.
    fn take(&mut self, sum: &mut u64) -> usize {
        // Acquire: pairs with the sender's Release store; the items before it are written.
        let head = self.handoff.head.load(Ordering::Acquire);
        let taken = head - self.tail;
        if taken == 0 {
            return 0;
        }
        let mut at = self.tail;
        while at < head {
            let slot = at % CAPACITY;
            let len = (head - at).min(CAPACITY - slot);
            let slots = &self.handoff.items[slot..slot + len];
            // SAFETY: slots before `head` were written and published by the sender, which
            // does not write them again before `tail` moves past them (see `Handoff`).
            let items = unsafe { slice::from_raw_parts(UnsafeCell::raw_get(slots.as_ptr()), len) };
            add_slice(sum, items);
            at += len;
        }
        self.tail = head;
        // Release: pairs with the sender's Acquire load; the reads above are done.
        self.handoff.tail.store(head, Ordering::Release);
        taken
    }
}

/// Fills and drains per transfer of `fill_then_drain`.
const FILLS: u64 = 16;

/// `FILLS` rounds of: one producer thread (on CPU 0) fills the queue with `CAPACITY` single
/// items, then the consumer (on CPU 1) drains it. Returns the time spent filling and
/// draining, not the hand-overs between them.
fn fill_then_drain(queue: Peer) -> Duration {
    let n = CAPACITY as u64;
    let (time, sum) = match queue {
        Peer::Picoring => {
            let (tx, mut rx) = picoring::create_mpsc::<u64>(CAPACITY).unwrap();
            alternate(
                || push_each(0, n, |v| tx.push(v)),
                || sum_pops(n, || rx.pop()),
            )
        }
        Peer::Array => {
            let q = ArrayQueue::<u64>::new(CAPACITY);
            alternate(
                || push_each(0, n, |v| q.push(v)),
                || sum_pops(n, || q.pop()),
            )
        }
        Peer::Channel => {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
            alternate(
                || push_each(0, n, |v| tx.try_send(v).map_err(|e| e.into_inner())),
                || sum_pops(n, || rx.try_recv().ok()),
            )
        }
        Peer::Spsc => {
            let (mut tx, mut rx) = picoring::create_spsc::<u64>(CAPACITY).unwrap();
            alternate(
                || push_each(0, n, |v| tx.push(v)),
                || sum_pops(n, || rx.pop()),
            )
        }
        Peer::Bare => unreachable!("{BARE_ONLY}"),
    };
    assert_eq!(sum, expected_sum(1, n).wrapping_mul(FILLS));
    time
}

/// Runs `fill` on CPU 0 and then `drain` on CPU 1, `FILLS` times, one after the other;
/// returns the time they took together and what the drains returned, added up.
fn alternate(
    mut fill: impl FnMut() + Send,
    mut drain: impl FnMut() -> u64 + Send,
) -> (Duration, u64) {
    let turn = Barrier::new(2);
    let mut fill_time = Duration::ZERO;
    let (_, (drain_time, sum)) = two_threads(
        || {
            for _ in 0..FILLS {
                turn.wait();
                fill_time += timed(&mut fill).0;
                turn.wait();
            }
        },
        || {
            let (mut time, mut sum) = (Duration::ZERO, 0u64);
            for _ in 0..FILLS {
                turn.wait();
                turn.wait();
                let (took, drained) = timed(&mut drain);
                time += took;
                sum = sum.wrapping_add(drained);
            }
            (time, sum)
        },
    );
    (fill_time + drain_time, sum)
}

/// Runs `f` once; returns how long it took and what it returned.
fn timed<R>(f: &mut impl FnMut() -> R) -> (Duration, R) {
    let start = Instant::now();
    let out = f();
    (start.elapsed(), out)
}

fn make_batch(p: u64, b: u64) -> [u64; BATCH] {
    std::array::from_fn(|i| p << 40 | (b * BATCH as u64 + i as u64))
}

fn expected_sum(producers: u64, each: u64) -> u64 {
    (0..producers).fold(0u64, |sum, p| {
        sum.wrapping_add((p << 40).wrapping_mul(each))
            .wrapping_add(each * (each - 1) / 2)
    })
}

/// The cases: group, items per transfer, how to run one transfer, and who runs it.
type Case = (&'static str, u64, fn(Peer) -> Duration, &'static [Peer]);

const CASES: [Case; 5] = [
    (
        "mpsc_4p_single",
        SINGLE_ITEMS,
        |q| single(q, 4, SINGLE_ITEMS),
        &QUEUES,
    ),
    (
        "mpsc_1p_single",
        SINGLE_ITEMS,
        |q| single(q, 1, SINGLE_ITEMS),
        &QUEUES,
    ),
    (
        "mpsc_4p_batch64",
        BATCH_ITEMS,
        |q| batch64(q, BATCH_ITEMS),
        &[
            Peer::Picoring,
            Peer::Array,
            Peer::Channel,
            Peer::Spsc,
            Peer::Bare,
        ],
    ),
    (
        "mpsc_8p_single",
        SINGLE_ITEMS,
        |q| single(q, 8, SINGLE_ITEMS),
        &QUEUES,
    ),
    (
        "fill_then_drain",
        FILLS * CAPACITY as u64,
        fill_then_drain,
        &QUEUES,
    ),
];

/// The queues every case runs; picoring first, since ratios are against it.
const QUEUES: [Peer; 4] = [Peer::Picoring, Peer::Array, Peer::Channel, Peer::Spsc];

fn bench(c: &mut Criterion) {
    for (group_name, items, run, queues) in CASES {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(items));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(3));
        for &queue in queues {
            group.bench_function(queue.name(), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| run(queue)).sum())
            });
        }
        group.finish();
    }
}

/// Every case once per round, in turn (rotating which queue goes first); medians, ranges and
/// ratios of the same rounds.
fn interleaved(rounds: usize) {
    println!(
        "\ninterleaved: {rounds} rounds, M items/s: median (min - max); ratio = picoring / peer"
    );
    for (name, items, run, queues) in CASES {
        let rates = rotating_rounds(rounds, queues.len(), |i| {
            items as f64 / run(queues[i]).as_secs_f64() / 1e6
        });
        let base = Spread::of(&rates[0]).median;
        for (i, queue) in queues.iter().enumerate() {
            let r = Spread::of(&rates[i]);
            println!(
                "{name:16} {:16} {:8.1} ({:.1} - {:.1})  ratio {:.2}x",
                queue.name(),
                r.median,
                r.min,
                r.max,
                base / r.median,
            );
        }
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` checks each bench function once: skip the extra pass.
    if common::benchmarking() {
        let rounds = std::env::var("MPSC_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(7);
        interleaved(rounds);
    }
}
