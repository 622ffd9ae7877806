//! Peak resident memory of pushing 100 M `u64` into one contender, in its own process.
//!
//! ```text
//! cargo run --release -p picoring --example list_rss -- picolist   # or vec, vecdeque
//! ```

use std::collections::VecDeque;
use std::hint::black_box;

use picoring::PicoList;

/// A line of `/proc/self/status` (Linux), in KiB.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    const ITEMS: u64 = 100_000_000;
    let which = std::env::args().nth(1).unwrap_or_else(|| "picolist".into());
    let base = status_kib("VmHWM:").unwrap_or(0);
    let start = std::time::Instant::now();
    match which.as_str() {
        "picolist" => {
            let mut list = PicoList::<u64>::new();
            for i in 0..ITEMS {
                list.push(black_box(i));
            }
            black_box(&list);
        }
        "vec" => {
            let mut vec = Vec::<u64>::new();
            for i in 0..ITEMS {
                vec.push(black_box(i));
            }
            black_box(&vec);
        }
        "vecdeque" => {
            let mut deque = VecDeque::<u64>::new();
            for i in 0..ITEMS {
                deque.push_back(black_box(i));
            }
            black_box(&deque);
        }
        other => panic!("unknown contender {other:?}: picolist, vec or vecdeque"),
    }
    let elapsed = start.elapsed();
    let data_mib = ITEMS * 8 / (1 << 20);
    match status_kib("VmHWM:") {
        Some(peak) => println!(
            "{which:>9}: data {data_mib} MiB, peak RSS {} MiB (process baseline {} MiB), {elapsed:.2?}",
            peak / 1024,
            base / 1024
        ),
        None => println!("{which:>9}: no /proc/self/status on this system, {elapsed:.2?}"),
    }
}
