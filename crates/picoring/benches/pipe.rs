//! A 256 MiB tmpfs file copied to `/dev/null` through a 1 MiB ring.
//!
//! ```text
//! cargo bench -p picoring --bench pipe
//! scripts/criterion_ratios.py
//! ```
//!
//! * `picoring_pipe`: one thread reads the file into the producer (`io_slices` +
//!   `read_vectored`), another, pinned to another CPU, writes the consumer to `/dev/null`
//!   (`io_slices` + `write_vectored`); both halves in blocking mode. A half that waits sleeps after a few
//!   microseconds, so each refill of a full ring pays a wake-up.
//! * `picoring_yield`: the same with non-blocking halves that yield and try again when
//!   offered nothing, the waiting strategy of the `bytering` row: like for like.
//! * `bytering`: bytering 0.8 doing the same; its halves cannot wait, so each thread yields
//!   when its callback is offered nothing.
//! * `relay`: one thread, pinned to the producers' CPU, `read` into a 1 MiB `Vec` and
//!   `write_all` to `/dev/null`.
//! * `relay_aligned`: the same, with the buffer page-aligned like the rings' memory.
//!
//! Why both relays: the kernel copies each read with `rep movsb`, whose speed on some x86-64
//! processors depends on where in a cache line the destination starts. On the machine these
//! figures come from, a destination 16 bytes past a line boundary (where glibc's `malloc`
//! puts a large `Vec`) copies 3-7% faster than a page-aligned one. The rings are
//! page-aligned (the benches ask for an alignment of 4096, as `O_DIRECT` would), so
//! `relay_aligned` is the like-for-like row, and `relay` shows what the placement is worth.
//!
//! On a machine with few cores, two-thread timings swing with the host's load. So before
//! criterion's own runs (which measure one function after another), the bench times
//! [`ROUNDS`] rounds in which the contenders run in turn, rotating the order, and prints each
//! one's median and range and the ratios to the pipe's median.

#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

mod common;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};

use common::{Spread, benchmarking, on_cpu, rotating_rounds, two_threads};

const RING: usize = 1 << 20;
const ROUNDS: usize = 15;

/// The file size: 256 MiB when benchmarking, 16 MiB for `cargo test --benches`.
fn file_size() -> usize {
    if benchmarking() { 256 << 20 } else { 16 << 20 }
}

/// A tmpfs file of pseudo-random bytes, deleted when dropped.
struct Input(PathBuf);

impl Input {
    fn new(size: usize) -> Input {
        let dir = Path::new("/dev/shm");
        let dir = if dir.is_dir() {
            dir.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let input = Input(dir.join(format!("picoring-bench-pipe-{}", std::process::id())));
        let mut out = File::create(&input.0).unwrap();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..size / block.len() {
            for w in block.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                w.copy_from_slice(&state.to_le_bytes());
            }
            out.write_all(&block).unwrap();
        }
        input
    }

    fn open(&self) -> File {
        File::open(&self.0).unwrap()
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn null() -> File {
    OpenOptions::new().write(true).open("/dev/null").unwrap()
}

/// picoring's pipe, two threads, blocking halves. Returns the bytes moved.
fn picoring_pipe(input: &Input) -> u64 {
    let (mut producer, mut consumer) = picoring::pipe::new(RING, 4096).unwrap();
    producer.set_blocking(true);
    consumer.set_blocking(true);
    let mut file = input.open();
    let mut out = null();
    let (_, moved) = two_threads(
        move || {
            while producer
                .io_slices(|bufs, _| file.read_vectored(bufs))
                .unwrap()
                > 0
            {}
        },
        move || {
            let mut moved = 0;
            loop {
                let n = consumer
                    .io_slices(|bufs, _| out.write_vectored(bufs))
                    .unwrap();
                if n == 0 {
                    break moved;
                }
                moved += n as u64;
            }
        },
    );
    moved
}

/// picoring's pipe, two threads, non-blocking halves that yield and try again when offered
/// nothing: the waiting strategy of the bytering contender, for a like-for-like row.
fn picoring_pipe_yield(input: &Input) -> u64 {
    let (mut producer, mut consumer) = picoring::pipe::new(RING, 4096).unwrap();
    let mut file = input.open();
    let mut out = null();
    let (_, moved) = two_threads(
        move || {
            loop {
                match producer.io_slices(|bufs, _| file.read_vectored(bufs)) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(picoring::pipe::ProducerError::Full) => thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
        },
        move || {
            let mut moved = 0;
            loop {
                match consumer.io_slices(|bufs, _| out.write_vectored(bufs)) {
                    Ok(0) => break moved,
                    Ok(n) => moved += n as u64,
                    Err(picoring::pipe::ConsumerError::Empty) => thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            }
        },
    );
    moved
}

/// bytering 0.8, two threads; a thread offered nothing yields and tries again.
fn bytering_pipe(input: &Input) -> u64 {
    let (mut producer, mut consumer) = bytering::new(RING, 4096).unwrap();
    let done = AtomicBool::new(false);
    let done = &done;
    let mut file = input.open();
    let mut out = null();
    let (_, moved) = two_threads(
        move || {
            loop {
                let mut full = false;
                let n = producer
                    .io_slices(|bufs, len| {
                        if len == 0 {
                            full = true;
                            return Ok(0);
                        }
                        file.read_vectored(bufs)
                    })
                    .unwrap();
                if full {
                    thread::yield_now();
                } else if n == 0 {
                    break;
                }
            }
            // Release: pairs with the Acquire load below, after the last publication.
            done.store(true, Ordering::Release);
        },
        move || {
            let mut moved = 0;
            loop {
                let n = consumer
                    .io_slices(|bufs, len| {
                        if len == 0 {
                            return Ok(0);
                        }
                        out.write_vectored(bufs)
                    })
                    .unwrap();
                moved += n as u64;
                if n == 0 {
                    // Acquire: pairs with the Release store above.
                    if done.load(Ordering::Acquire) && consumer.is_empty() {
                        break moved;
                    }
                    thread::yield_now();
                }
            }
        },
    );
    moved
}

/// One thread (pinned like the pipes' producers), `read` then `write_all`, through a `Vec`
/// as large as the rings.
fn relay(input: &Input) -> u64 {
    on_cpu(0, || relay_through(input, &mut vec![0u8; RING]))
}

/// The same, through a page-aligned buffer as large as the rings.
fn relay_aligned(input: &Input) -> u64 {
    #[repr(C, align(4096))]
    struct Page([u8; 4096]);
    on_cpu(0, || {
        let mut pages: Vec<Page> = (0..RING / 4096).map(|_| Page([0; 4096])).collect();
        // SAFETY: the pages are contiguous plain bytes, `RING` of them, borrowed for the
        // call.
        let buf = unsafe { std::slice::from_raw_parts_mut(pages.as_mut_ptr().cast::<u8>(), RING) };
        relay_through(input, buf)
    })
}

fn relay_through(input: &Input, buf: &mut [u8]) -> u64 {
    let mut file = input.open();
    let mut out = null();
    let mut moved = 0;
    loop {
        let n = file.read(buf).unwrap();
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).unwrap();
        moved += n as u64;
    }
    moved
}

type Contender = (&'static str, fn(&Input) -> u64);

const CONTENDERS: [Contender; 5] = [
    ("picoring_pipe", picoring_pipe),
    ("picoring_yield", picoring_pipe_yield),
    ("bytering", bytering_pipe),
    ("relay", relay),
    ("relay_aligned", relay_aligned),
];

/// Runs the contenders in turn for [`ROUNDS`] rounds and prints medians, ranges and ratios.
fn interleaved(input: &Input, size: usize) {
    let times = rotating_rounds(ROUNDS, CONTENDERS.len(), |i| {
        let start = Instant::now();
        assert_eq!(CONTENDERS[i].1(input) as usize, size);
        start.elapsed().as_secs_f64()
    });
    let base = Spread::of(&times[0]).median;
    println!(
        "interleaved: {} MiB file -> /dev/null, 1 MiB ring, {ROUNDS} rounds",
        size >> 20
    );
    println!(
        "{:14} {:>10} {:>21} {:>9} {:>17}",
        "", "median ms", "range ms", "GiB/s", "time / picoring"
    );
    for (i, (name, _)) in CONTENDERS.iter().enumerate() {
        let t = Spread::of(&times[i]);
        println!(
            "{name:14} {:10.1} {:>21} {:9.2} {:>8.2}x ({:.2}-{:.2})",
            t.median * 1e3,
            format!("{:.1}-{:.1}", t.min * 1e3, t.max * 1e3),
            size as f64 / t.median / f64::from(1 << 30),
            t.median / base,
            t.min / base,
            t.max / base
        );
    }
}

fn file_to_null(c: &mut Criterion) {
    let size = file_size();
    let input = Input::new(size);
    if benchmarking() {
        interleaved(&input, size);
    }
    let mut group = c.benchmark_group("file_to_null");
    group
        .throughput(Throughput::Bytes(size as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (name, run) in CONTENDERS {
        group.bench_function(name, |b| {
            b.iter(|| assert_eq!(run(&input) as usize, size));
        });
    }
    group.finish();
}

criterion_group!(benches, file_to_null);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
