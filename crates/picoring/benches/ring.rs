//! Costs of the foundation, each beside the flat baseline doing the same work.
//!
//! ```text
//! cargo bench -p picoring --bench ring
//! ```
//!
//! * `wrapped_sum/*`: sum every byte of a view that wraps the ring's physical end, against
//!   the same sum over a flat `Vec` and over a wrapped `VecDeque`'s two slices.
//! * `push_across_end/*`: `push_slice` of a block that crosses the physical end, against one
//!   flat `memcpy` and against a wrapped `VecDeque`.
//! * `create_drop/*`: create and drop a 64 KiB ring (a released mapping is reused), sixteen
//!   at once (mostly fresh mappings), against a 64 KiB `VecDeque`.

#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use picoring::PicoRing;

const SIZES: [usize; 3] = [4 << 10, 64 << 10, 1 << 20];

/// The one summing loop that every side runs.
#[inline(never)]
fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// A ring of `2 * size` bytes holding `size` bytes that start `size / 2` before the end.
fn wrapped_ring(size: usize) -> PicoRing<u8> {
    let mut ring = PicoRing::<u8>::with_capacity(2 * size).unwrap();
    let cap = ring.capacity();
    ring.push_slice(&vec![0; cap - size / 2]);
    ring.advance_tail(cap - size / 2);
    let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
    assert_eq!(ring.push_slice(&data), size);
    ring
}

/// The same bytes in a `VecDeque` whose contents wrap its buffer end.
fn wrapped_deque(size: usize) -> VecDeque<u8> {
    let mut deque = VecDeque::with_capacity(2 * size);
    let cap = deque.capacity();
    park_head(&mut deque, cap - size / 2);
    deque.extend((0..size).map(|i| i as u8));
    let (a, b) = deque.as_slices();
    assert!(!a.is_empty() && !b.is_empty(), "the deque must wrap");
    deque
}

/// Moves an empty deque's head `by` slots forward (`clear` and a full `drain` reset it).
fn park_head(deque: &mut VecDeque<u8>, by: usize) {
    deque.extend(std::iter::repeat_n(0, by));
    while deque.pop_front().is_some() {}
}

fn wrapped_sum(c: &mut Criterion) {
    let mut group = c.benchmark_group("wrapped_sum");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let flat: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let ring = wrapped_ring(size);
        let deque = wrapped_deque(size);
        let expected = sum(&flat);
        assert_eq!(sum(ring.readable_slice()), expected);

        group.bench_with_input(BenchmarkId::new("picoring", size), &ring, |b, ring| {
            b.iter(|| sum(black_box(ring).readable_slice()))
        });
        group.bench_with_input(BenchmarkId::new("flat_vec", size), &flat, |b, flat| {
            b.iter(|| sum(black_box(flat.as_slice())))
        });
        group.bench_with_input(BenchmarkId::new("vecdeque", size), &deque, |b, deque| {
            b.iter(|| {
                let (a, z) = black_box(deque).as_slices();
                sum(a) + sum(z)
            })
        });
    }
    group.finish();
}

fn push_across_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("push_across_end");
    for size in [4 << 10, 64 << 10] {
        group.throughput(Throughput::Bytes(size as u64));
        let src: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();

        // A ring of exactly `size` bytes with its head half-way: every push of `size` bytes
        // crosses the end at the same place.
        let mut ring = PicoRing::<u8>::with_capacity(size).unwrap();
        assert_eq!(ring.capacity(), size);
        ring.push_slice(&src[..size / 2]);
        ring.advance_tail(size / 2);
        group.bench_function(BenchmarkId::new("picoring", size), |b| {
            b.iter(|| {
                assert_eq!(ring.push_slice(black_box(&src)), size);
                ring.advance_tail(size);
            })
        });

        // The flat destination sits at the same address modulo 4 KiB as the ring's: a copy
        // whose source and destination are a multiple of 4 KiB apart runs many times slower
        // on x86 (4K aliasing), and that must not decide the comparison either way.
        let ring_dst = ring.write_chunk().as_mut_slice().as_ptr() as usize;
        let mut flat = vec![0u8; size + 4096];
        let shift = ring_dst.wrapping_sub(flat.as_ptr() as usize) % 4096;
        group.bench_function(BenchmarkId::new("flat_memcpy", size), |b| {
            b.iter(|| {
                black_box(&mut flat[shift..shift + size]).copy_from_slice(black_box(&src));
            })
        });

        let mut deque = VecDeque::<u8>::with_capacity(size);
        let cap = deque.capacity();
        park_head(&mut deque, cap - size / 2);
        deque.extend(src.iter().copied());
        let (a, z) = deque.as_slices();
        assert!(!a.is_empty() && !z.is_empty(), "the deque must wrap");
        deque.truncate(0);
        group.bench_function(BenchmarkId::new("vecdeque", size), |b| {
            b.iter(|| {
                black_box(&mut deque).extend(black_box(&src).iter().copied());
                // `truncate` keeps the head where it is, so every round wraps the same way.
                deque.truncate(0);
            })
        });
    }
    group.finish();
}

fn create_drop(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_drop");
    group.bench_function("picoring_64k", |b| {
        b.iter(|| PicoRing::<u8>::with_capacity(black_box(64 << 10)).unwrap())
    });
    // Sixteen at once, then all dropped: more than the reuse cache keeps, so at least half
    // of each round's rings are fresh mappings. Time per ring is this / 16.
    group.bench_function("picoring_64k_x16", |b| {
        b.iter(|| {
            let rings: Vec<_> = (0..16)
                .map(|_| PicoRing::<u8>::with_capacity(black_box(64 << 10)).unwrap())
                .collect();
            rings
        })
    });
    group.bench_function("vecdeque_64k", |b| {
        b.iter(|| VecDeque::<u8>::with_capacity(black_box(64 << 10)))
    });
    group.finish();
}

criterion_group!(benches, wrapped_sum, push_across_end, create_drop);
criterion_main!(benches);
