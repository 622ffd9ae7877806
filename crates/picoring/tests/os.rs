//! The OS layer seen through the public API: concurrent creation, no global names, no
//! mapping left behind, and the fork policy.

#![cfg(not(any(miri, picoring_heap)))]

use std::thread;

use picoring::PicoRing;

/// The lines of `/proc/self/maps` that belong to picoring's memory files.
#[cfg(target_os = "linux")]
fn picoring_mappings() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("memfd:picoring"))
        .count()
}

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
    assert!(picoring_mappings() >= 2 * rings.len());
}

#[test]
#[cfg(target_os = "linux")]
fn dropping_a_ring_unmaps_both_views() {
    let ring = PicoRing::<u64>::with_capacity(1 << 16).unwrap();
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

/// The fork policy: a child does not inherit the ring's memory (`MADV_DONTFORK`), so it
/// can neither see nor corrupt the parent's items.
#[test]
#[cfg(target_os = "linux")]
fn a_forked_child_does_not_share_the_ring() {
    let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
    ring.push_slice(b"parent");
    let base = ring.readable_slice().as_ptr() as *mut libc::c_void;
    let page = picoring::granularity();

    // SAFETY: the child only makes raw system calls (`mincore`, `_exit`), which are
    // async-signal-safe, so forking a multi-threaded test process is fine.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let mut resident = [0u8; 1];
        // SAFETY: `mincore` only inspects the address range; it fails with ENOMEM when
        // the range is not mapped in this process.
        let rc = unsafe { libc::mincore(base, page, resident.as_mut_ptr()) };
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        let code = if rc == -1 && errno == libc::ENOMEM {
            0
        } else {
            1
        };
        // SAFETY: ends the child at once, running no destructor of the parent's state.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child made above.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "child did not exit normally: {status}"
    );
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child could see the parent's ring"
    );
    assert_eq!(ring.readable_slice(), b"parent");
}
