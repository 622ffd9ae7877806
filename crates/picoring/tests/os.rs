//! The OS layer seen through the public API: concurrent creation, no global names, no
//! mapping left behind, and the fork policy.

#![cfg(not(any(miri, picoring_heap)))]

use std::thread;

use picoring::PicoRing;

mod common;

#[test]
fn four_threads_create_and_drop_500_rings_each() {
    let workers: Vec<_> = (0..4u8)
        .map(|t| {
            thread::spawn(move || {
                let mut failures = 0;
                for i in 0..500usize {
                    match PicoRing::<u8>::with_capacity(4096 * (1 + i % 3)) {
                        Ok(mut ring) => {
                            ring.push(t).unwrap();
                            assert_eq!(ring.pop(), Some(t));
                        }
                        Err(err) => {
                            eprintln!("thread {t}, ring {i}: {err}");
                            failures += 1;
                        }
                    }
                }
                failures
            })
        })
        .collect();
    let failures: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(failures, 0);
}

#[test]
#[cfg(target_os = "linux")]
fn creation_uses_no_global_name() {
    let before: Vec<_> = std::fs::read_dir("/dev/shm")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    let rings: Vec<_> = (0..16)
        .map(|_| PicoRing::<u8>::with_capacity(4096).unwrap())
        .collect();
    let after: Vec<_> = std::fs::read_dir("/dev/shm")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    let new: Vec<_> = after.iter().filter(|n| !before.contains(n)).collect();
    assert!(
        !new.iter().any(|n| n.to_string_lossy().contains("picoring")),
        "named objects appeared in /dev/shm: {new:?}"
    );
    // Each ring is two views of one anonymous memory file.
    assert!(common::picoring_views() >= 2 * rings.len());
}

#[test]
#[cfg(target_os = "linux")]
fn dropping_a_ring_unmaps_both_views() {
    // 2 MiB: more than the recycling cache keeps, so the drop really unmaps.
    let ring = PicoRing::<u64>::with_capacity(1 << 18).unwrap();
    let start = ring.readable_slice().as_ptr() as usize;
    let maps = || std::fs::read_to_string("/proc/self/maps").unwrap();
    let covers = |maps: &str| {
        maps.lines().any(|l| {
            let range = l.split_whitespace().next().unwrap();
            let (lo, hi) = range.split_once('-').unwrap();
            let lo = usize::from_str_radix(lo, 16).unwrap();
            let hi = usize::from_str_radix(hi, 16).unwrap();
            lo <= start && start < hi
        })
    };
    assert!(covers(&maps()));
    drop(ring);
    assert!(!covers(&maps()), "the ring's address range is still mapped");
}

#[test]
fn a_recycled_mapping_is_an_empty_usable_ring() {
    // A size no other test of this binary uses, so the cache entry is this test's own.
    const CAP: usize = 3 * 65536;
    let mut ring = PicoRing::<u8>::with_capacity(CAP).unwrap();
    assert_eq!(ring.push_slice(&vec![0xAA; CAP]), CAP);
    let first = ring.readable_slice().as_ptr();
    drop(ring);

    let mut ring = PicoRing::<u8>::with_capacity(CAP).unwrap();
    assert!(ring.is_empty());
    assert_eq!(ring.capacity(), CAP);
    ring.push_slice(&vec![1; CAP / 2]);
    ring.advance_tail(CAP / 2);
    let data: Vec<u8> = (0..CAP).map(|i| (i % 251) as u8).collect();
    assert_eq!(ring.push_slice(&data), CAP);
    assert_eq!(
        ring.readable_slice(),
        &data[..],
        "the mirror of a recycled mapping"
    );
    // Recycling is an optimisation, not a promise; report whether it happened.
    eprintln!("recycled: {}", ring.readable_slice().as_ptr() != first);
}
