//! Edges and invariants of `PicoRing` (public API only).

use std::error::Error as _;
use std::mem::{ManuallyDrop, size_of};

use picoring::{Error, PicoRing, granularity};

fn g() -> usize {
    granularity()
}

#[test]
fn zero_capacity_is_an_error() {
    let err = PicoRing::<u8>::with_capacity(0).unwrap_err();
    assert!(matches!(err, Error::ZeroCapacity), "{err:?}");
    assert_eq!(err.to_string(), "capacity must be at least one element");
    assert!(err.source().is_none());
    assert!(matches!(
        PicoRing::<()>::with_capacity(0),
        Err(Error::ZeroCapacity)
    ));
}

#[test]
fn huge_capacities_are_errors_not_panics() {
    assert!(matches!(
        PicoRing::<u8>::with_capacity(usize::MAX),
        Err(Error::CapacityOverflow)
    ));
    assert!(matches!(
        PicoRing::<u64>::with_capacity(usize::MAX / 8 + 1),
        Err(Error::CapacityOverflow)
    ));
    // `n * size_of::<T>()` overflows `usize`.
    assert!(matches!(
        PicoRing::<[u8; 1024]>::with_capacity(usize::MAX / 512),
        Err(Error::CapacityOverflow)
    ));
    // The byte size fits `usize` but two copies do not fit `isize`.
    assert!(matches!(
        PicoRing::<u8>::with_capacity(isize::MAX as usize / 2 + 1),
        Err(Error::CapacityOverflow)
    ));
    assert_eq!(
        Error::CapacityOverflow.to_string(),
        "capacity overflows the address space"
    );
}

#[repr(align(65536))]
#[derive(Clone, Copy, Debug)]
struct Align64K(#[allow(dead_code)] u8);

#[repr(C, align(16))]
#[derive(Clone, Copy, PartialEq, Debug)]
struct Align16(u64, u64);

#[test]
fn alignment_above_the_granularity_is_refused() {
    if std::mem::align_of::<Align64K>() > g() {
        let err = PicoRing::<Align64K>::with_capacity(1).unwrap_err();
        assert!(
            matches!(err, Error::AlignmentTooLarge { align: 65536, granularity } if granularity == g()),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("alignment of 65536 bytes"),
            "{err}"
        );
    }
}

#[test]
fn aligned_types_land_on_aligned_slots() {
    let mut ring = PicoRing::<Align16>::with_capacity(1).unwrap();
    let cap = ring.capacity();
    for i in 0..cap as u64 * 3 {
        if ring.is_full() {
            ring.advance_tail(cap / 2);
        }
        ring.push(Align16(i, !i)).unwrap();
        let view = ring.readable_slice();
        assert_eq!(view.as_ptr() as usize % 16, 0);
        assert_eq!(view.last(), Some(&Align16(i, !i)));
    }
}

#[test]
fn zero_sized_types_need_no_mapping() {
    let mut ring = PicoRing::<()>::with_capacity(3).unwrap();
    assert_eq!(ring.capacity(), 3, "ZSTs are not rounded");
    for _ in 0..10 {
        ring.push(()).unwrap();
        ring.push(()).unwrap();
        ring.push(()).unwrap();
        assert_eq!(ring.push(()), Err(()));
        assert_eq!(ring.readable_slice().len(), 3);
        assert_eq!(ring.pop(), Some(()));
        ring.advance_tail(2);
        assert!(ring.is_empty());
    }
    let big = PicoRing::<()>::with_capacity(usize::MAX / 4).unwrap();
    assert_eq!(big.capacity(), usize::MAX / 4);
}

#[test]
fn static_capacity() {
    let mut ring = PicoRing::<u8, 4096>::new().unwrap();
    assert_eq!(ring.capacity(), 4096.max(g()));
    ring.push(255).unwrap();
    assert_eq!(ring.readable_slice()[0], 255);

    let ring = PicoRing::<u32, 10>::new().unwrap();
    assert!(ring.capacity() >= 10);
    assert_eq!(ring.capacity() * 4 % g(), 0);
}

#[test]
fn capacity_of_exactly_a_page_is_not_rounded() {
    let ring = PicoRing::<u8>::with_capacity(g()).unwrap();
    assert_eq!(ring.capacity(), g());
    let ring = PicoRing::<u8>::with_capacity(g() + 1).unwrap();
    assert_eq!(ring.capacity(), 2 * g());
    let ring = PicoRing::<u64>::with_capacity(g() / 8).unwrap();
    assert_eq!(ring.capacity(), g() / 8);
}

#[test]
fn page_sized_elements_use_every_slot() {
    // One element per page: the seed crate had 0 usable slots here.
    let mut ring = PicoRing::<[u8; 4096]>::with_capacity(1).unwrap();
    let cap = ring.capacity();
    assert_eq!(cap * 4096 % g(), 0);
    for round in 0..3u8 {
        for i in 0..cap {
            ring.push([round.wrapping_add(i as u8); 4096]).unwrap();
        }
        assert!(ring.push([0; 4096]).is_err());
        ring.advance_tail(1);
        ring.push([200; 4096]).unwrap();
        let view = ring.readable_slice();
        assert_eq!(view.len(), cap);
        assert!(view[cap - 1].iter().all(|&b| b == 200));
        ring.clear();
    }
}

/// Invariant 2: for element sizes that do not divide the page, the period is exact and
/// a view across the physical end shows the right items.
fn wrapped_view_of_size<const S: usize>() {
    let mut ring = PicoRing::<[u8; S]>::with_capacity(8).unwrap();
    let cap = ring.capacity();
    assert_eq!(
        cap * S % g(),
        0,
        "size {S}: period is not a multiple of the granularity"
    );
    let item = |i: usize| {
        let mut v = [0u8; S];
        for (k, b) in v.iter_mut().enumerate() {
            *b = (i * 31 + k) as u8;
        }
        v
    };
    // Park head and tail three slots before the physical end, then push across it.
    for i in 0..cap - 3 {
        ring.push(item(i)).unwrap();
    }
    ring.advance_tail(cap - 3);
    for i in 0..7 {
        ring.push(item(1000 + i)).unwrap();
    }
    let view = ring.readable_slice();
    assert_eq!(view.len(), 7);
    for (i, v) in view.iter().enumerate() {
        assert_eq!(v, &item(1000 + i), "size {S}, item {i}");
    }
}

#[test]
fn odd_sizes_wrap_exactly() {
    wrapped_view_of_size::<3>();
    wrapped_view_of_size::<5>();
    wrapped_view_of_size::<12>();
    wrapped_view_of_size::<24>();
    wrapped_view_of_size::<48>();
    wrapped_view_of_size::<100>();
    wrapped_view_of_size::<4100>();
}

/// Invariant 4: every slot is usable and `capacity()` is exact.
#[test]
fn all_capacity_is_usable() {
    let mut ring = PicoRing::<u16>::with_capacity(1).unwrap();
    let cap = ring.capacity();
    for lap in 0..5u16 {
        for i in 0..cap {
            assert_eq!(ring.vacant_len(), cap - i);
            ring.push(i as u16 ^ lap).unwrap();
        }
        assert!(ring.is_full());
        assert_eq!(ring.len(), cap);
        assert_eq!(ring.push(1), Err(1));
        assert_eq!(ring.readable_slice().len(), cap);
        for i in 0..cap {
            assert_eq!(ring.pop(), Some(i as u16 ^ lap));
        }
        assert!(ring.is_empty());
        // Shift the phase so the next lap starts elsewhere.
        ring.push(0).unwrap();
        ring.pop();
    }
}

/// Invariant 1: no view is longer than the capacity, so none covers a slot twice.
#[test]
fn views_never_cover_a_slot_twice() {
    let mut ring = PicoRing::<u8>::with_capacity(1).unwrap();
    let cap = ring.capacity();
    ring.push_slice(&vec![7; cap / 2]);
    ring.advance_tail(cap / 2);
    assert_eq!(ring.write_chunk().len(), cap);
    assert_eq!(ring.push_slice(&vec![1; 3 * cap]), cap);
    assert_eq!(ring.readable_slice().len(), cap);
    assert_eq!(ring.readable_slice_mut().len(), cap);
    assert_eq!(ring.write_chunk().len(), 0);
}

/// Invariant 1: a write through one copy is seen by the next read through the other, at
/// every capacity. This one does not tempt the optimiser (the capacity is not a constant);
/// [`the_optimiser_sees_both_copies_as_one_memory`] does.
#[test]
fn writes_through_one_copy_are_seen_through_the_other() {
    let mut ring = PicoRing::<u64>::with_capacity(1).unwrap();
    let cap = ring.capacity() as u64;
    ring.push(u64::MAX).unwrap();
    // Three laps: at `x % cap == cap - 1` the two-item view straddles the physical end, its
    // second item read through the second copy of slot 0.
    for x in 0..3 * cap {
        ring.push(x).unwrap();
        let view = ring.readable_slice();
        assert_eq!(view[1], x, "stale read of the newest item");
        ring.readable_slice_mut()[1] = !x;
        let old = ring.pop().unwrap();
        assert!(
            old == u64::MAX || old == !(x - 1),
            "stale read of the oldest item"
        );
        assert_eq!(
            ring.readable_slice()[0],
            !x,
            "stale read after a write through a view"
        );
    }
}

/// A byte capacity that every platform maps exactly: a multiple of every mapping
/// granularity (4 KiB pages, 16 KiB on Apple silicon, 64 KiB on Windows).
const ALIAS_CAP: usize = 1 << 16;

/// A fresh ring of [`ALIAS_CAP`] bytes, empty, with head and tail two slots before the
/// physical end. Inlined into each caller, so that the optimiser still sees the capacity and
/// every position as constants there.
#[inline(always)]
fn ring_two_before_the_end() -> ManuallyDrop<PicoRing<u8>> {
    let mut ring = ManuallyDrop::new(PicoRing::<u8>::with_capacity(ALIAS_CAP).unwrap());
    assert_eq!(ring.capacity(), ALIAS_CAP);
    ring.push_slice(&[0; ALIAS_CAP - 2]);
    ring.advance_tail(ALIAS_CAP - 2);
    ring
}

/// Writes bytes through the second copy, then reads them back through the first.
///
/// Everything from the fresh ring to the read is one function, so the optimiser knows the
/// capacity and every position and can fold each window to `base + constant`. The ring is
/// kept in a `ManuallyDrop` and returned, to be dropped by the caller: no drop on an
/// unwinding path takes its address, so its positions stay in registers between the writes.
#[inline(never)]
fn write_through_second_copy_read_through_first() -> (PicoRing<u8>, [u8; 6]) {
    let mut ring = ring_two_before_the_end();
    // Slots `cap - 2..cap` and `0..6`: the last six written through the second copy.
    ring.push_slice(b"ABCDEFGH");
    ring.advance_tail(2);
    // The tail is slot 0, so this view starts in the first copy.
    let view = ring.readable_slice();
    let read = [view[0], view[1], view[2], view[3], view[4], view[5]];
    (ManuallyDrop::into_inner(ring), read)
}

/// Writes bytes through the first copy, then reads them back through the second, where
/// the same slots were written a lap earlier. Built as
/// [`write_through_second_copy_read_through_first`].
#[inline(never)]
fn write_through_first_copy_read_through_second() -> (PicoRing<u8>, [u8; 4]) {
    let mut ring = ring_two_before_the_end();
    // Slots 0 and 1 get `xy` through the second copy.
    ring.push_slice(b"ABxy");
    ring.advance_tail(4);
    // A lap later, head and tail are two slots before the physical end again.
    ring.push_slice(&[0; ALIAS_CAP - 4]);
    ring.advance_tail(ALIAS_CAP - 4);
    ring.push_slice(b"AB");
    // The head is slot 0: `CD` goes through the first copy.
    ring.push(b'C').unwrap();
    ring.push(b'D').unwrap();
    // The tail is slot `cap - 2`: this view reads slots 0 and 1 through the second copy.
    let view = ring.readable_slice();
    let read = [view[0], view[1], view[2], view[3]];
    (ManuallyDrop::into_inner(ring), read)
}

/// The two copies are two addresses of one memory: no write through one of them may be
/// reordered with, or forwarded past, an access through the other, even where the
/// optimiser can prove the offsets (`k` and `capacity + k`) distinct.
///
/// This is what `launder` in `src/mirror.rs` guards against. In release builds this test
/// fails when `launder` returns its argument unchanged: the first read then gives the zeros
/// pushed before the wrap, the second the `xy` of the previous lap. Unoptimised builds
/// keep every access in place, so there it passes either way.
#[test]
fn the_optimiser_sees_both_copies_as_one_memory() {
    let (ring, read) = write_through_second_copy_read_through_first();
    assert_eq!(&read, b"CDEFGH", "read through the first copy");
    drop(ring);
    let (ring, read) = write_through_first_copy_read_through_second();
    assert_eq!(&read, b"ABCD", "read through the second copy");
    drop(ring);
}

#[test]
fn advance_tail_beyond_len_panics_and_keeps_the_items() {
    let mut ring = PicoRing::<String>::with_capacity(8).unwrap();
    ring.push("a".into()).unwrap();
    ring.push("b".into()).unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ring.advance_tail(3)))
        .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert_eq!(msg, "cannot advance the tail by 3 items: the ring holds 2");
    assert_eq!(ring.readable_slice(), ["a", "b"]);
}

#[test]
fn commit_beyond_the_chunk_panics() {
    let mut ring = PicoRing::<u8>::with_capacity(1).unwrap();
    let cap = ring.capacity();
    ring.push_slice(&vec![1; cap - 2]);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let chunk = ring.write_chunk();
        // SAFETY: never reached with uninitialised slots: the call panics first.
        unsafe { chunk.commit(3) };
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert_eq!(msg, "cannot commit 3 slots: the chunk has 2");
    assert_eq!(ring.len(), cap - 2);
}

#[test]
fn debug_lists_the_items() {
    let mut ring = PicoRing::<u8>::with_capacity(16).unwrap();
    ring.push_slice(&[1, 2, 3]);
    assert_eq!(format!("{ring:?}"), "[1, 2, 3]");
    let chunk = ring.write_chunk();
    assert!(format!("{chunk:?}").starts_with("WriteChunk { len: "));
}

#[test]
fn iterators_walk_oldest_first() {
    let mut ring = PicoRing::<u32>::with_capacity(1).unwrap();
    let cap = ring.capacity() as u32;
    ring.extend(0..cap + 5);
    assert_eq!(ring.iter().next(), Some(&5));
    for v in &mut ring {
        *v += 1;
    }
    assert_eq!((&ring).into_iter().last(), Some(&(cap + 5)));
    let collected: Vec<u32> = ring.into_iter().collect();
    assert_eq!(collected, (6..cap + 6).collect::<Vec<_>>());
}

#[test]
fn handles_have_the_right_auto_traits() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<PicoRing<u8>>();
    sync::<PicoRing<u8>>();
    send::<PicoRing<std::cell::Cell<u8>>>();
    assert_eq!(size_of::<PicoRing<u8>>(), size_of::<PicoRing<u8, 4096>>());
}
