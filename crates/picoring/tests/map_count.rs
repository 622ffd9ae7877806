//! Creating rings until the OS refuses gives an `Err`, and creation works again once rings
//! are released. In a binary of its own: while the limit is reached, nothing else in the
//! process can map memory.

#![cfg(all(target_os = "linux", not(miri), not(picoring_heap)))]

use picoring::{Error, PicoRing};

mod common;

#[test]
fn running_out_of_mappings_is_an_error_and_recoverable() {
    let mut rings = Vec::with_capacity(40_000);
    let err = loop {
        match PicoRing::<u8>::with_capacity(1) {
            Ok(ring) => rings.push(ring),
            Err(err) => break err,
        }
        assert!(rings.len() < 200_000, "vm.max_map_count was never reached");
    };
    let created = rings.len();
    // Release a few first, so that formatting the error can allocate.
    rings.truncate(created - 64);
    match &err {
        Error::Map { call, source } => {
            assert!(["mmap", "madvise", "memfd_create"].contains(call), "{call}");
            assert!(source.raw_os_error().is_some(), "{source:?}");
        }
        other => panic!("expected a mapping error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("failed to map mirrored memory"));
    assert!(std::error::Error::source(&err).is_some());
    assert!(created > 1000, "only {created} rings before the limit");

    let mut fresh = PicoRing::<u8>::with_capacity(1).expect("creation works after release");
    fresh.push(1).unwrap();
    // The failed creation left nothing behind: every memfd view belongs to a live ring or to
    // one of the (at most 8) released mappings kept for reuse.
    let live = rings.len() + 1;
    let views = common::picoring_views();
    assert!(
        (2 * live..=2 * (live + 8)).contains(&views),
        "{views} views for {live} live rings"
    );
    drop(rings);
    drop(fresh);
    assert!(common::picoring_views() <= 2 * 8);

    let mut again = Vec::with_capacity(created);
    while again.len() < created - 2 {
        match PicoRing::<u8>::with_capacity(1) {
            Ok(ring) => again.push(ring),
            Err(err) => panic!("after release only {} rings fit again: {err}", again.len()),
        }
    }
}
