//! What the benches share: threads pinned to CPUs, contenders run in rotating rounds, and
//! the median and range of what those rounds measured.
//!
//! A shared host drifts from minute to minute, so a bench that compares contenders runs each
//! of them once per round, in an order that rotates from round to round, and compares
//! medians of the same rounds.

#![allow(dead_code, reason = "each bench uses only some of these helpers")]

use std::thread;
use std::time::{Duration, Instant};

/// Whether this run benchmarks (`cargo bench` passes `--bench`), rather than checking that
/// the bench works (`cargo test --benches` passes neither `--bench` nor `--test` to a bench
/// without the standard harness).
pub(crate) fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Pins the calling thread to `cpu`, if the machine has it (on Linux; elsewhere it does
/// nothing).
pub(crate) fn pin(cpu: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: `set` is a plain bit set, initialised by CPU_ZERO before use.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// Runs `f` on a thread of its own pinned to `cpu`, and returns what it returns.
pub(crate) fn on_cpu<R: Send>(cpu: usize, f: impl FnOnce() -> R + Send) -> R {
    thread::scope(|s| {
        s.spawn(move || {
            pin(cpu);
            f()
        })
        .join()
        .unwrap()
    })
}

/// Runs `produce` and `consume` on two threads pinned to different CPUs (0 and 1, or both
/// on 0 on a one-CPU machine); returns the time until both finish and what `consume`
/// returned.
pub(crate) fn two_threads<R: Send>(
    produce: impl FnOnce() + Send,
    consume: impl FnOnce() -> R + Send,
) -> (Duration, R) {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    thread::scope(|s| {
        let start = Instant::now();
        let p = s.spawn(move || {
            pin(0);
            produce();
        });
        let c = s.spawn(move || {
            pin(1 % cpus);
            consume()
        });
        p.join().unwrap();
        let out = c.join().unwrap();
        (start.elapsed(), out)
    })
}

/// Runs `rounds` rounds of `contenders` measurements: each round calls `measure(i)` once for
/// every contender `i`, starting with another contender each round. Returns what each
/// contender measured, by contender, in round order.
pub(crate) fn rotating_rounds(
    rounds: usize,
    contenders: usize,
    mut measure: impl FnMut(usize) -> f64,
) -> Vec<Vec<f64>> {
    let mut measured = vec![Vec::with_capacity(rounds); contenders];
    for round in 0..rounds {
        for k in 0..contenders {
            let i = (round + k) % contenders;
            measured[i].push(measure(i));
        }
    }
    measured
}

/// The median and range of some measurements.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spread {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Spread {
    /// The spread of `values`, which must not be empty. The median of an even number of
    /// values is the mean of the middle two.
    pub(crate) fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }
}
