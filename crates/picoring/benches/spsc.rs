//! Two-thread SPSC throughput: picoring against rtrb and ringbuf, in one run.
//!
//! `cargo bench -p picoring --bench spsc` moves `u64`s from a producer thread to a consumer
//! thread pinned to different CPUs: one at a time (`push`/`pop`), and in batches of 64 and
//! 4096 (picoring: `push_slice`, then `readable_slice` summed and `advance_tail`; rtrb: its
//! chunk API; ringbuf: `push_slice`, `as_slices` summed and `skip`). Every consumer reads
//! every item: the sums are checked. Contenders run round-robin, in a rotating order, so
//! that a noisy minute of a shared host hits them all; the table gives the median and range
//! over the rounds, and each contender's median throughput relative to picoring's.
//!
//! Without `--bench` (as in `cargo test --benches`), every contender runs one short round.
//! Other arguments select groups by name: `cargo bench -p picoring --bench spsc -- single`.

mod common;

use std::hint::black_box;
use std::mem::MaybeUninit;
use std::thread;
use std::time::Duration;

use common::{Spread, rotating_rounds, two_threads};

use ringbuf::traits::{Consumer as _, Producer as _, Split as _};

/// Slots in every ring (picoring's capacity for `u64` at this request is exactly this).
const CAPACITY: usize = 16384;

fn expected_sum(n: u64) -> u64 {
    n * (n - 1) / 2
}

// ---------------------------------------------------------------------------------------
// One item at a time
// ---------------------------------------------------------------------------------------

fn single_picoring(n: u64) -> (Duration, u64) {
    let (mut tx, mut rx) = picoring::create_spsc::<u64>(CAPACITY).unwrap();
    assert_eq!(tx.capacity(), CAPACITY);
    two_threads(
        move || {
            for i in 0..n {
                let mut v = i;
                while let Err(back) = tx.push(v) {
                    v = back;
                    std::hint::spin_loop();
                }
            }
        },
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                if let Some(v) = rx.pop() {
                    sum = sum.wrapping_add(v);
                    got += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
            sum
        },
    )
}

fn single_rtrb(n: u64) -> (Duration, u64) {
    let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY);
    two_threads(
        move || {
            for i in 0..n {
                while tx.push(i).is_err() {
                    std::hint::spin_loop();
                }
            }
        },
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                if let Ok(v) = rx.pop() {
                    sum = sum.wrapping_add(v);
                    got += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
            sum
        },
    )
}

fn single_ringbuf(n: u64) -> (Duration, u64) {
    let (mut tx, mut rx) = ringbuf::HeapRb::<u64>::new(CAPACITY).split();
    two_threads(
        move || {
            for i in 0..n {
                while tx.try_push(i).is_err() {
                    std::hint::spin_loop();
                }
            }
        },
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                if let Some(v) = rx.try_pop() {
                    sum = sum.wrapping_add(v);
                    got += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
            sum
        },
    )
}

// ---------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------

/// Calls `send` with consecutive batches of `batch` values from `0..n` until all are sent;
/// `send` returns how many of its slice it took.
fn produce_batches(n: u64, batch: usize, mut send: impl FnMut(&[u64]) -> usize) {
    let mut buf: Vec<u64> = (0..batch as u64).collect();
    let mut next = 0u64;
    while next < n {
        let len = batch.min((n - next) as usize);
        for (k, v) in buf[..len].iter_mut().enumerate() {
            *v = next + k as u64;
        }
        let mut sent = 0;
        while sent < len {
            let k = send(&buf[sent..len]);
            if k == 0 {
                std::hint::spin_loop();
            }
            sent += k;
        }
        next += len as u64;
    }
}

fn batch_picoring(n: u64, batch: usize) -> (Duration, u64) {
    let (mut tx, mut rx) = picoring::create_spsc::<u64>(CAPACITY).unwrap();
    two_threads(
        move || produce_batches(n, batch, |s| tx.push_slice(s)),
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                let slice = rx.readable_slice();
                if slice.is_empty() {
                    std::hint::spin_loop();
                    continue;
                }
                sum = slice.iter().fold(sum, |a, &v| a.wrapping_add(v));
                got += slice.len() as u64;
                rx.advance_tail(slice.len());
            }
            sum
        },
    )
}

fn batch_rtrb(n: u64, batch: usize) -> (Duration, u64) {
    let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY);
    two_threads(
        move || {
            produce_batches(n, batch, |s| {
                let k = s.len().min(tx.slots());
                if k == 0 {
                    return 0;
                }
                let mut chunk = tx.write_chunk_uninit(k).unwrap();
                let (a, b) = chunk.as_mut_slices();
                copy_into(a, &s[..a.len()]);
                copy_into(b, &s[a.len()..k]);
                // SAFETY: both slices of the chunk were initialised just above.
                unsafe { chunk.commit_all() };
                k
            })
        },
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                let k = rx.slots();
                if k == 0 {
                    std::hint::spin_loop();
                    continue;
                }
                let chunk = rx.read_chunk(k).unwrap();
                let (a, b) = chunk.as_slices();
                sum = a.iter().chain(b).fold(sum, |s, &v| s.wrapping_add(v));
                chunk.commit_all();
                got += k as u64;
            }
            sum
        },
    )
}

fn batch_ringbuf(n: u64, batch: usize) -> (Duration, u64) {
    let (mut tx, mut rx) = ringbuf::HeapRb::<u64>::new(CAPACITY).split();
    two_threads(
        move || produce_batches(n, batch, |s| tx.push_slice(s)),
        move || {
            let mut sum = 0u64;
            let mut got = 0;
            while got < n {
                let (a, b) = rx.as_slices();
                let k = a.len() + b.len();
                if k == 0 {
                    std::hint::spin_loop();
                    continue;
                }
                sum = a.iter().chain(b).fold(sum, |s, &v| s.wrapping_add(v));
                rx.skip(k);
                got += k as u64;
            }
            sum
        },
    )
}

fn copy_into(dst: &mut [MaybeUninit<u64>], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

// ---------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------

type Contender = (&'static str, Box<dyn Fn() -> (Duration, u64)>);

struct Group {
    name: String,
    items: u64,
    contenders: Vec<Contender>,
}

fn groups(full: bool) -> Vec<Group> {
    let single = if full { 2_000_000 } else { 20_000 };
    let batched = if full { 16_000_000 } else { 100_000 };
    let mut groups = vec![Group {
        name: "single u64 push/pop".into(),
        items: single,
        contenders: vec![
            ("picoring", Box::new(move || single_picoring(single))),
            ("rtrb", Box::new(move || single_rtrb(single))),
            ("ringbuf", Box::new(move || single_ringbuf(single))),
        ],
    }];
    for batch in [64, 4096] {
        groups.push(Group {
            name: format!("batches of {batch}"),
            items: batched,
            contenders: vec![
                ("picoring", Box::new(move || batch_picoring(batched, batch))),
                ("rtrb chunks", Box::new(move || batch_rtrb(batched, batch))),
                ("ringbuf", Box::new(move || batch_ringbuf(batched, batch))),
            ],
        });
    }
    groups
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    // Any other argument selects the groups whose name contains it.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let rounds = if full { 15 } else { 1 };
    println!(
        "SPSC, {} CPUs, ring of {CAPACITY} u64, {rounds} interleaved rounds",
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    for group in groups(full) {
        if !filters.is_empty() && !filters.iter().any(|f| group.name.contains(f.as_str())) {
            continue;
        }
        let mut run = |i: usize| {
            let (name, contender) = &group.contenders[i];
            let (time, sum) = contender();
            assert_eq!(sum, expected_sum(group.items), "{name} lost items");
            group.items as f64 / time.as_secs_f64() / 1e6
        };
        // One warm-up round, not counted.
        rotating_rounds(1, group.contenders.len(), &mut run);
        let rates = rotating_rounds(rounds, group.contenders.len(), &mut run);
        println!("\n{} ({} items)", group.name, group.items);
        println!(
            "  {:<12} {:>12} {:>20} {:>16}",
            "contender", "Mitems/s", "range", "picoring / it"
        );
        let base = Spread::of(&rates[0]).median;
        for (i, (name, _)) in group.contenders.iter().enumerate() {
            let r = Spread::of(&rates[i]);
            println!(
                "  {:<12} {:>12.1} {:>9.1} ..{:>8.1} {:>15.2}x",
                name,
                r.median,
                r.min,
                r.max,
                base / r.median
            );
        }
    }
    black_box(());
}
