//! The fork policy: a child made by `fork()` does not inherit a ring's memory
//! (`MADV_DONTFORK`), so it can neither see nor corrupt the parent's items, and rings it
//! creates itself work, even when the parent had released mappings for reuse.

#![cfg(all(target_os = "linux", not(miri), not(picoring_heap)))]

use picoring::PicoRing;

/// Runs `child` in a forked process and returns its exit code.
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: glibc makes `malloc` usable in the child of a multi-threaded parent; the child
    // ends with `_exit`, running no destructor of the parent's state.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = child();
        // SAFETY: see above.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child made above.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status),
        "the child died: status {status:#x}"
    );
    libc::WEXITSTATUS(status)
}

/// The fork policy: a child does not inherit the ring's memory (`MADV_DONTFORK`), so it
/// can neither see nor corrupt the parent's items.
#[test]
fn a_forked_child_does_not_share_the_ring() {
    let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
    ring.push_slice(b"parent");
    let base = ring.readable_slice().as_ptr() as *mut libc::c_void;
    let page = picoring::granularity();

    let code = in_child(|| {
        let mut resident = [0u8; 1];
        // SAFETY: `mincore` only inspects the address range; it fails with ENOMEM when
        // the range is not mapped in this process.
        let rc = unsafe { libc::mincore(base, page, resident.as_mut_ptr()) };
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        if rc == -1 && errno == libc::ENOMEM {
            0
        } else {
            1
        }
    });
    assert_eq!(code, 0, "the child could see the parent's ring");
    assert_eq!(ring.readable_slice(), b"parent");
}

#[test]
fn a_child_can_create_rings_after_the_parent_released_some() {
    // A size of its own, so that the parent's released mapping sits in the reuse cache.
    const CAP: usize = 5 * 4096;
    let mut ring = PicoRing::<u8>::with_capacity(CAP).unwrap();
    ring.push_slice(b"parent");
    drop(ring);
    let code = in_child(|| {
        // The parent's cached mapping is not mapped here: it must not be reused.
        let Ok(mut ring) = PicoRing::<u8>::with_capacity(CAP) else {
            return 2;
        };
        ring.push_slice(&[7; CAP]);
        ring.advance_tail(CAP - 1);
        ring.push_slice(b"child");
        if ring.readable_slice() == b"\x07child" {
            0
        } else {
            1
        }
    });
    assert_eq!(code, 0);
    // And the parent still recycles normally.
    let mut ring = PicoRing::<u8>::with_capacity(CAP).unwrap();
    ring.push(1).unwrap();
    assert_eq!(ring.pop(), Some(1));
}

/// A child inherits the parent's choice of barriers but maybe not its `membarrier`
/// registration: blocking waits, which rely on it, still work there.
#[test]
fn a_child_can_block_on_a_queue() {
    // The parent creates a queue first, so that the barriers are chosen before the fork.
    let (mut tx, mut rx) = picoring::create_spsc::<u64>(16).unwrap();
    tx.push(1).unwrap();
    assert_eq!(rx.pop_blocking(), Some(1));

    let code = in_child(|| {
        let transfer = || {
            let (mut tx, mut rx) = picoring::create_spsc::<u64>(1).unwrap();
            let writer = std::thread::spawn(move || {
                // Late, so that the consumer goes to sleep first.
                std::thread::sleep(std::time::Duration::from_millis(20));
                for i in 0..10_000 {
                    tx.push_blocking(i).unwrap();
                }
            });
            let ok = (0..10_000).all(|i| rx.pop_blocking() == Some(i));
            writer.join().unwrap();
            ok
        };
        match std::panic::catch_unwind(transfer) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(_) => 2,
        }
    });
    assert_eq!(code, 0, "blocking transfer failed in the child");
}
