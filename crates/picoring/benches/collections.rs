//! The collections beside the std structure doing the same work.
//!
//! ```text
//! cargo bench -p picoring --bench collections
//! python3 scripts/criterion_ratios.py
//! ```
//!
//! * `list_push/*`: push 100 M `u64` into a new `PicoList`, `Vec` (no reservation, so it
//!   reallocates and copies) and `VecDeque`, and drop it.
//! * `list_index/*`: read 4096 random elements of a 100 M-element list by `list[i]`.
//! * `list_iter/*`: sum every element of a 100 M-element list with `iter().sum()`.
//! * `queue_cycle/*`: reserve a packet, fill it from a source, commit it, sum every queued
//!   byte, release a packet's worth; the `VecDeque` extends from the source, sums
//!   `as_slices()` and drains a packet's worth.
//! * `stream_cycle/*`: `write_all` a packet and `read_exact` a packet back, then sum the
//!   bytes read, through a `PicoByteStream` and through a `VecDeque<u8>` (both `std::io`).
//!
//! Both sides of the packet benches keep one byte queued between rounds. A `VecDeque`
//! drained empty moves its head back to 0, so without it the deque would reuse the same
//! few hot bytes while the ring walks its whole capacity; with it, both walk their whole
//! capacity and wrap its end, which is the case these structures exist for.

#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

mod common;

use std::collections::VecDeque;
use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use picoring::{PicoByteStream, PicoList, PicoQueue};

use common::Spread;

const ITEMS: u64 = 100_000_000;
const PACKETS: [usize; 3] = [64, 4 << 10, 64 << 10];
/// Ring capacity for the packet benches: room for several packets of the largest size.
const RING: usize = 256 << 10;

/// A buffer of `len` bytes starting 3072 bytes into a page.
///
/// The rings start on a page, and a `VecDeque`'s large buffer 16 bytes into one; a copy
/// whose source and destination share their low 12 address bits can run many times slower
/// (4K aliasing). Placing the packet buffers away from both keeps that accident out of
/// the comparison.
fn placed(len: usize) -> (Vec<u8>, usize) {
    let buf = vec![0u8; len + 8192];
    let off = (3072 + 4096 - buf.as_ptr() as usize % 4096) % 4096;
    (buf, off)
}

/// The one summing loop that every side runs.
#[inline(never)]
fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

fn list_push(c: &mut Criterion) {
    let mut group = c.benchmark_group("list_push");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(ITEMS));
    group.bench_function(BenchmarkId::new("picoring", ITEMS), |b| {
        b.iter(|| {
            let mut list = PicoList::<u64>::new();
            for i in 0..ITEMS {
                list.push(black_box(i));
            }
            black_box(&list);
        })
    });
    group.bench_function(BenchmarkId::new("vec", ITEMS), |b| {
        b.iter(|| {
            let mut vec = Vec::<u64>::new();
            for i in 0..ITEMS {
                vec.push(black_box(i));
            }
            black_box(&vec);
        })
    });
    group.bench_function(BenchmarkId::new("vecdeque", ITEMS), |b| {
        b.iter(|| {
            let mut deque = VecDeque::<u64>::new();
            for i in 0..ITEMS {
                deque.push_back(black_box(i));
            }
            black_box(&deque);
        })
    });
    group.finish();
}

/// 4096 pseudo-random indices below `ITEMS`.
fn indices() -> Vec<usize> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % ITEMS) as usize
        })
        .collect()
}

fn list_read(c: &mut Criterion) {
    let idx = indices();
    let mut index = c.benchmark_group("list_index");
    index.throughput(Throughput::Elements(idx.len() as u64));
    let mut results = Vec::new();
    {
        let list: PicoList<u64> = (0..ITEMS).collect();
        index.bench_function(BenchmarkId::new("picoring", ITEMS), |b| {
            b.iter(|| idx.iter().map(|&i| black_box(&list)[i]).sum::<u64>())
        });
        results.push((list.iter().sum::<u64>(), list));
    }
    let vec: Vec<u64> = (0..ITEMS).collect();
    index.bench_function(BenchmarkId::new("vec", ITEMS), |b| {
        b.iter(|| idx.iter().map(|&i| black_box(&vec)[i]).sum::<u64>())
    });
    drop(vec);
    let deque: VecDeque<u64> = (0..ITEMS).collect();
    index.bench_function(BenchmarkId::new("vecdeque", ITEMS), |b| {
        b.iter(|| idx.iter().map(|&i| black_box(&deque)[i]).sum::<u64>())
    });
    drop(deque);
    index.finish();

    let mut iter = c.benchmark_group("list_iter");
    iter.sample_size(10);
    iter.throughput(Throughput::Elements(ITEMS));
    let (expected, list) = results.pop().unwrap();
    drop(list);
    // All three are built afresh and live together while each is measured: which physical
    // pages a structure gets moves a memory-bound sum by up to 20% from run to run on a
    // virtual machine, so none of them reads memory of another age than the others.
    let list: PicoList<u64> = (0..ITEMS).collect();
    let vec: Vec<u64> = (0..ITEMS).collect();
    let deque: VecDeque<u64> = (0..ITEMS).collect();
    assert_eq!(vec.iter().sum::<u64>(), expected);
    iter.bench_function(BenchmarkId::new("picoring", ITEMS), |b| {
        b.iter(|| black_box(&list).iter().sum::<u64>())
    });
    iter.bench_function(BenchmarkId::new("vec", ITEMS), |b| {
        b.iter(|| black_box(&vec).iter().sum::<u64>())
    });
    iter.bench_function(BenchmarkId::new("vecdeque", ITEMS), |b| {
        b.iter(|| black_box(&deque).iter().sum::<u64>())
    });
    iter.finish();
}

fn queue_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue_cycle");
    for size in PACKETS {
        group.throughput(Throughput::Bytes(size as u64));
        let (mut src_buf, off) = placed(size);
        let src = &mut src_buf[off..off + size];
        src.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let src = &*src;
        let expected = sum(src);

        let mut queue = PicoQueue::<u8>::new(RING).unwrap();
        let cap = queue.capacity();
        // Start half a packet before the physical end, with one resident byte, equal to
        // the last byte of a packet, so that every round sums like the source plus it.
        queue.push_slice(&vec![0; cap - size / 2]);
        queue.release(cap - size / 2);
        queue.push_slice(&src[size - 1..]);
        let expected = expected + u64::from(src[size - 1]);
        group.bench_function(BenchmarkId::new("picoring", size), |b| {
            b.iter(|| {
                let src = black_box(src);
                let buf = queue.reserve(src.len()).unwrap();
                buf.copy_from_slice(src);
                queue.commit(src.len());
                let total = sum(queue.peek());
                queue.release(src.len());
                assert_eq!(total, expected);
                total
            })
        });

        let mut deque = VecDeque::<u8>::with_capacity(cap);
        deque.push_back(src[size - 1]);
        group.bench_function(BenchmarkId::new("vecdeque", size), |b| {
            b.iter(|| {
                let src = black_box(src);
                deque.extend(src.iter());
                let (x, y) = deque.as_slices();
                let total = sum(x) + sum(y);
                deque.drain(..src.len());
                assert_eq!(total, expected);
                total
            })
        });
    }
    group.finish();
}

fn stream_cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_cycle");
    for size in PACKETS {
        group.throughput(Throughput::Bytes(size as u64));
        let (mut src_buf, off) = placed(size);
        let src = &mut src_buf[off..off + size];
        src.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let src = &*src;
        let expected = sum(src);
        let (mut dst_buf, off) = placed(size);
        let dst = &mut dst_buf[off..off + size];

        let mut stream = PicoByteStream::new(RING).unwrap();
        let cap = stream.capacity();
        // Start half a packet before the physical end, with one resident byte, equal to
        // the last byte of a packet, so that every packet read sums like the source.
        stream.write_all(&vec![0; cap - size / 2]).unwrap();
        stream.consume(cap - size / 2);
        stream.write_all(&src[size - 1..]).unwrap();
        group.bench_function(BenchmarkId::new("picoring", size), |b| {
            b.iter(|| {
                stream.write_all(black_box(src)).unwrap();
                stream.read_exact(dst).unwrap();
                let total = sum(black_box(&*dst));
                assert_eq!(total, expected);
                total
            })
        });

        let mut deque = VecDeque::<u8>::with_capacity(cap);
        deque.push_back(src[size - 1]);
        group.bench_function(BenchmarkId::new("vecdeque", size), |b| {
            b.iter(|| {
                deque.write_all(black_box(src)).unwrap();
                deque.read_exact(dst).unwrap();
                let total = sum(black_box(&*dst));
                assert_eq!(total, expected);
                total
            })
        });
    }
    group.finish();
}

/// `list_iter` again, in rounds that build a fresh list and `Vec` (in alternating order)
/// and sum each in turn; the median and range of the per-round ratios.
///
/// On a virtual machine, the physical pages a 800 MB structure happens to get move a
/// memory-bound sum by up to 20% from one build to the next, and the same structure keeps
/// its luck for as long as it lives. One build per side, as in the criterion group, can
/// thus show a gap that belongs to neither structure; many builds average it out.
fn list_iter_rounds(rounds: usize) {
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let build_list = || (0..ITEMS).collect::<PicoList<u64>>();
        let build_vec = || (0..ITEMS).collect::<Vec<u64>>();
        let (list, vec) = if round % 2 == 0 {
            let list = build_list();
            (list, build_vec())
        } else {
            let vec = build_vec();
            (build_list(), vec)
        };
        let time = |f: &dyn Fn() -> u64| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            a.push(time(&|| black_box(&list).iter().sum::<u64>()));
            b.push(time(&|| black_box(&vec).iter().sum::<u64>()));
        }
        ratios.push(Spread::of(&a).median / Spread::of(&b).median);
    }
    let r = Spread::of(&ratios);
    println!(
        "\nlist_iter in {rounds} rounds of fresh builds: picoring / vec time = {:.2} ({:.2} - {:.2})",
        r.median, r.min, r.max
    );
}

criterion_group!(benches, queue_cycle, stream_cycle, list_read, list_push);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` checks each bench function once: skip the extra pass.
    if common::benchmarking() {
        list_iter_rounds(8);
    }
}
