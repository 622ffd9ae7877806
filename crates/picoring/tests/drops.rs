//! Ownership: every item that enters a `PicoRing` is dropped exactly once, by whoever owns
//! it last, also when the items wrap the physical end, when a `Drop` or `Clone` panics, and
//! for zero-sized types; values written into a `WriteChunk` but never committed are
//! forgotten, not dropped (public API only).

use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use picoring::PicoRing;

mod common;

/// Keeps this file's deliberate panics out of the output.
fn quiet_expected_panics() {
    common::quiet_expected_panics(&["intentional panic", "cannot advance"]);
}

// ---------------------------------------------------------------------------------------
// A per-test ledger of items and their drops
// ---------------------------------------------------------------------------------------

/// Hands out items with fresh ids and counts how often each id is dropped.
struct Log {
    drops: Vec<Cell<u32>>,
    created: Cell<u32>,
    /// The id whose `Drop` panics (after being counted).
    panic_on_drop: Cell<Option<u32>>,
    /// The id whose `Clone` panics (before creating anything).
    panic_on_clone: Cell<Option<u32>>,
}

impl Log {
    fn new() -> Self {
        Log {
            drops: (0..4096).map(|_| Cell::new(0)).collect(),
            created: Cell::new(0),
            panic_on_drop: Cell::new(None),
            panic_on_clone: Cell::new(None),
        }
    }

    fn item(&self) -> Item<'_> {
        let id = self.created.get();
        assert!((id as usize) < self.drops.len(), "the log is too small");
        self.created.set(id + 1);
        Item { id, log: self }
    }

    fn items(&self, n: usize) -> Vec<Item<'_>> {
        (0..n).map(|_| self.item()).collect()
    }

    fn drops(&self, id: u32) -> u32 {
        self.drops[id as usize].get()
    }

    /// Asserts the drop count of each of `ids`.
    fn assert_drops(&self, ids: impl IntoIterator<Item = u32>, times: u32, what: &str) {
        for id in ids {
            assert_eq!(
                self.drops(id),
                times,
                "{what}: item {id} dropped the wrong number of times"
            );
        }
    }

    /// Every item ever created is in exactly one place: in `ring`, among `elsewhere` (held
    /// by the test, or forgotten on purpose), or dropped exactly once.
    fn assert_conserved(&self, ring: Option<&PicoRing<Item<'_>>>, elsewhere: &[u32], what: &str) {
        let created = self.created.get() as usize;
        let mut places = vec![0u32; created];
        for item in ring.into_iter().flat_map(|r| r.iter()) {
            places[item.id as usize] += 1;
        }
        for &id in elsewhere {
            places[id as usize] += 1;
        }
        for (id, &n) in places.iter().enumerate() {
            let dropped = self.drops(id as u32);
            assert_eq!(
                n + dropped,
                1,
                "{what}: item {id} is held in {n} places and was dropped {dropped} times"
            );
        }
    }

    /// Every item ever created, except `forgotten`, was dropped exactly once.
    fn assert_all_dropped_once(&self, forgotten: &[u32], what: &str) {
        self.assert_conserved(None, forgotten, what);
    }
}

struct Item<'a> {
    id: u32,
    log: &'a Log,
}

impl fmt::Debug for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Item({})", self.id)
    }
}

impl Drop for Item<'_> {
    fn drop(&mut self) {
        let count = &self.log.drops[self.id as usize];
        count.set(count.get() + 1);
        if self.log.panic_on_drop.get() == Some(self.id) {
            panic!("intentional panic in the drop of item {}", self.id);
        }
    }
}

impl Clone for Item<'_> {
    /// A clone is a new item, with an id of its own.
    fn clone(&self) -> Self {
        if self.log.panic_on_clone.get() == Some(self.id) {
            panic!("intentional panic in the clone of item {}", self.id);
        }
        self.log.item()
    }
}

fn ids(ring: &PicoRing<Item<'_>>) -> Vec<u32> {
    ring.iter().map(|item| item.id).collect()
}

/// A ring of items whose head and tail both sit at slot `at` (items were pushed and
/// dropped to get there), so that what is pushed next crosses the physical end after
/// `capacity - at` items.
fn parked_ring(log: &Log, at: impl FnOnce(usize) -> usize) -> PicoRing<Item<'_>> {
    let mut ring = match PicoRing::with_capacity(1) {
        Ok(ring) => ring,
        Err(err) => panic!("with_capacity(1) failed: {err}"),
    };
    let cap = ring.capacity();
    assert!(cap >= 4, "these tests need at least 4 slots, got {cap}");
    let at = at(cap);
    assert!(at < cap);
    for _ in 0..at {
        assert!(ring.push(log.item()).is_ok(), "parking push");
    }
    ring.advance_tail(at);
    assert!(ring.is_empty());
    log.assert_conserved(Some(&ring), &[], "after parking");
    ring
}

/// Pushes `n` fresh items and returns their ids; in a parked ring they cross the physical
/// end.
fn fill<'a>(ring: &mut PicoRing<Item<'a>>, log: &'a Log, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| {
            let item = log.item();
            let id = item.id;
            assert!(ring.push(item).is_ok(), "push of item {id} refused");
            id
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Plain ownership
// ---------------------------------------------------------------------------------------

#[test]
fn pop_hands_the_item_over_without_dropping_it() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    for &id in &pushed {
        let item = ring.pop();
        assert_eq!(item.as_ref().map(|i| i.id), Some(id), "pop order");
        assert_eq!(log.drops(id), 0, "the ring dropped item {id} it handed out");
        drop(item);
        assert_eq!(log.drops(id), 1, "item {id}");
    }
    assert!(ring.pop().is_none());
    log.assert_conserved(Some(&ring), &[], "after popping everything");
}

#[test]
fn advance_tail_and_clear_drop_exactly_the_removed_items() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);

    ring.advance_tail(0);
    log.assert_conserved(Some(&ring), &[], "advance_tail(0)");

    // Slots cap-2, cap-1, 0: across the physical end.
    ring.advance_tail(3);
    log.assert_drops(pushed[..3].iter().copied(), 1, "advanced over");
    log.assert_drops(pushed[3..].iter().copied(), 0, "still in the ring");
    assert_eq!(ids(&ring), pushed[3..]);

    let result = panic::catch_unwind(AssertUnwindSafe(|| ring.advance_tail(cap)));
    assert!(result.is_err(), "advance_tail beyond len must panic");
    assert_eq!(
        ids(&ring),
        pushed[3..],
        "a refused advance_tail changed the ring"
    );
    log.assert_conserved(Some(&ring), &[], "after the refused advance_tail");

    ring.clear();
    assert!(ring.is_empty());
    log.assert_drops(pushed.iter().copied(), 1, "cleared");
    ring.clear();
    log.assert_conserved(Some(&ring), &[], "after a second clear");
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn a_refused_push_gives_the_value_back() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap / 2 + 1);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    let extra = log.item();
    let extra_id = extra.id;
    let back = match ring.push(extra) {
        Ok(()) => panic!("push into a full ring succeeded"),
        Err(back) => back,
    };
    assert_eq!(back.id, extra_id, "push gave back another item");
    assert_eq!(log.drops(extra_id), 0, "the refused item was dropped");
    assert_eq!(ids(&ring), pushed, "a refused push changed the ring");
    log.assert_conserved(Some(&ring), &[extra_id], "after the refused push");
    drop(back);
    assert_eq!(log.drops(extra_id), 1);
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn push_overwrite_returns_the_evicted_item_undropped() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 1);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    for (k, &oldest) in pushed.iter().enumerate().take(3) {
        let item = log.item();
        let new_id = item.id;
        let evicted = ring.push_overwrite(item);
        assert_eq!(evicted.as_ref().map(|i| i.id), Some(oldest), "eviction {k}");
        assert_eq!(log.drops(oldest), 0, "the ring dropped the item it evicted");
        assert_eq!(ring.len(), cap);
        assert_eq!(ring.readable_slice().last().map(|i| i.id), Some(new_id));
        log.assert_conserved(Some(&ring), &[oldest], "after push_overwrite");
        drop(evicted);
    }
    // Not full: nothing is evicted.
    ring.advance_tail(1);
    assert!(ring.push_overwrite(log.item()).is_none());
    log.assert_conserved(Some(&ring), &[], "after push_overwrite into a free slot");
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn extend_drops_the_items_it_evicts() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 3);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, cap - 1);
    // One free slot, then evictions of the old items and finally of the new ones.
    let new = log.items(cap + 2);
    let new_ids: Vec<u32> = new.iter().map(|i| i.id).collect();
    ring.extend(new);
    assert_eq!(ids(&ring), new_ids[2..], "extend keeps the newest items");
    log.assert_drops(old.iter().copied(), 1, "old items evicted by extend");
    log.assert_drops(
        new_ids[..2].iter().copied(),
        1,
        "new items evicted by extend",
    );
    log.assert_conserved(Some(&ring), &[], "after extend");
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn dropping_the_ring_drops_its_items() {
    let log = Log::new();
    let empty = parked_ring(&log, |_| 0);
    drop(empty);
    let mut partial = parked_ring(&log, |cap| cap - 1);
    let mut full = parked_ring(&log, |cap| cap / 2);
    let cap = full.capacity();
    let in_partial = fill(&mut partial, &log, 3);
    let in_full = fill(&mut full, &log, cap);
    log.assert_drops(
        in_partial.iter().chain(&in_full).copied(),
        0,
        "before the drops",
    );
    drop(partial);
    log.assert_drops(
        in_partial.iter().copied(),
        1,
        "after dropping the partial ring",
    );
    log.assert_drops(in_full.iter().copied(), 0, "items of the other ring");
    drop(full);
    log.assert_all_dropped_once(&[], "after dropping both rings");
}

#[test]
fn into_iter_drops_what_it_did_not_yield() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    let mut items = ring.into_iter();
    assert_eq!(items.len(), cap);
    let first = items.next();
    let second = items.next();
    let third = items.next();
    assert_eq!(
        [&first, &second, &third].map(|i| i.as_ref().map(|i| i.id)),
        [Some(pushed[0]), Some(pushed[1]), Some(pushed[2])],
        "into_iter order across the physical end"
    );
    assert_eq!(items.size_hint(), (cap - 3, Some(cap - 3)));
    log.assert_drops(pushed.iter().copied(), 0, "before dropping the iterator");
    drop(second);
    drop(items);
    log.assert_drops(pushed[3..].iter().copied(), 1, "left in the iterator");
    log.assert_all_dropped_once(&[pushed[0], pushed[2]], "after dropping the iterator");
    drop((first, third));
    log.assert_all_dropped_once(&[], "after dropping the yielded items");
}

#[test]
fn uncommitted_chunk_values_are_forgotten_not_dropped() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, 1);
    let mut forgotten = Vec::new();

    // Write every free slot (they cross the physical end), commit nothing.
    let mut chunk = ring.write_chunk();
    assert_eq!(chunk.len(), cap - 1);
    for slot in chunk.as_mut_slice() {
        let item = log.item();
        forgotten.push(item.id);
        slot.write(item);
    }
    drop(chunk);
    assert_eq!(ids(&ring), old, "an uncommitted chunk changed the ring");
    log.assert_drops(forgotten.iter().copied(), 0, "written, not committed");
    log.assert_conserved(Some(&ring), &forgotten, "after dropping the chunk");

    // Write every free slot again, commit only the first 3.
    let mut chunk = ring.write_chunk();
    let mut written = Vec::new();
    for slot in chunk.as_mut_slice() {
        let item = log.item();
        written.push(item.id);
        slot.write(item);
    }
    // SAFETY: every slot of the chunk, so also the first 3, was initialised just above.
    unsafe { chunk.commit(3) };
    forgotten.extend_from_slice(&written[3..]);
    let expected: Vec<u32> = old.iter().chain(&written[..3]).copied().collect();
    assert_eq!(ids(&ring), expected, "commit(3)");
    log.assert_drops(written.iter().copied(), 0, "committed or forgotten");

    // The forgotten values' slots are free: pushing over them drops nothing.
    let more = fill(&mut ring, &log, cap - 4);
    assert!(ring.is_full());
    log.assert_conserved(
        Some(&ring),
        &forgotten,
        "after overwriting forgotten values",
    );
    ring.clear();
    log.assert_drops(
        old.iter().chain(&written[..3]).chain(&more).copied(),
        1,
        "cleared",
    );
    drop(ring);
    log.assert_all_dropped_once(&forgotten, "after dropping the ring");
    log.assert_drops(forgotten.iter().copied(), 0, "forgotten values");
}

#[test]
fn fill_from_iter_moves_only_what_fits() {
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, 2);
    let source = log.items(cap + 1);
    let source_ids: Vec<u32> = source.iter().map(|i| i.id).collect();
    let n = ring.write_chunk().fill_from_iter(source);
    assert_eq!(n, cap - 2);
    let expected: Vec<u32> = old.iter().chain(&source_ids[..cap - 2]).copied().collect();
    assert_eq!(ids(&ring), expected);
    // The 3 items that did not fit went down with the iterator.
    log.assert_drops(source_ids[cap - 2..].iter().copied(), 1, "did not fit");
    log.assert_conserved(Some(&ring), &[], "after fill_from_iter");
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn items_replaced_through_a_mutable_view_are_the_ones_dropped() {
    // Replace every item (they cross the physical end), then at once remove them in one of
    // four ways: the replaced items must be gone, the replacements dropped exactly once.
    for how in 0..4 {
        let log = Log::new();
        let mut ring = parked_ring(&log, |cap| cap - 2);
        let cap = ring.capacity();
        let old = fill(&mut ring, &log, cap);
        if how % 2 == 0 {
            ring.readable_slice_mut()
                .iter_mut()
                .for_each(|x| *x = log.item());
        } else {
            for x in &mut ring {
                *x = log.item();
            }
        }
        log.assert_drops(old.iter().copied(), 1, "replaced through a mutable view");
        let new: Vec<u32> = (old[old.len() - 1] + 1..log.created.get()).collect();
        assert_eq!(new.len(), cap);
        match how {
            0 => {
                // Over the physical end, then from slot 1 on, which was written through
                // the view's second copy of the buffer.
                ring.advance_tail(3);
                ring.advance_tail(1);
                log.assert_drops(new[..4].iter().copied(), 1, "advanced over");
                log.assert_drops(new[4..].iter().copied(), 0, "still in the ring");
                drop(ring);
            }
            1 => {
                ring.clear();
                drop(ring);
            }
            2 => drop(ring),
            _ => {
                let popped: Vec<Item<'_>> = ring.into_iter().collect();
                let popped_ids: Vec<u32> = popped.iter().map(|i| i.id).collect();
                assert_eq!(popped_ids, new, "into_iter after the replacement");
                log.assert_drops(new.iter().copied(), 0, "popped");
            }
        }
        log.assert_all_dropped_once(&[], &format!("replacement then removal #{how}"));
    }
}

// ---------------------------------------------------------------------------------------
// Panicking `Drop`
// ---------------------------------------------------------------------------------------

/// `advance_tail(4)` (or `clear()`) over a range whose item at `panic_at` panics in `Drop`.
fn panicking_drop_in_advance(panic_at: usize, clear: bool) {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    let n = if clear { cap } else { 4 };
    let victim = pushed[panic_at];
    log.panic_on_drop.set(Some(victim));

    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if clear {
            ring.clear();
        } else {
            ring.advance_tail(n);
        }
    }));
    let payload = match result {
        Ok(()) => panic!("the panic of item {victim}'s drop was swallowed"),
        Err(payload) => payload,
    };
    assert_eq!(
        common::panic_message(&*payload),
        format!("intentional panic in the drop of item {victim}")
    );
    log.panic_on_drop.set(None);

    assert_eq!(ring.len(), cap - n, "len does not reflect the removal");
    assert_eq!(ids(&ring), pushed[n..], "the wrong items left the ring");
    log.assert_drops(pushed[..n].iter().copied(), 1, "removed");
    log.assert_conserved(Some(&ring), &[], "after the panic");

    // The ring still works.
    let new = fill(&mut ring, &log, 2);
    assert_eq!(ring.len(), cap - n + 2);
    let popped = ring.pop();
    let expected = pushed.get(n).copied().unwrap_or(new[0]);
    assert_eq!(
        popped.as_ref().map(|i| i.id),
        Some(expected),
        "pop after the panic"
    );
    drop(popped);
    assert_eq!(ring.readable_slice().last().map(|i| i.id), Some(new[1]));
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

#[test]
fn a_panicking_drop_in_advance_tail_drops_every_other_item_once() {
    // Slots cap-2, cap-1, 0, 1: the range crosses the physical end. The panic comes from
    // its first item, from the ones on each side of the end, and from its last.
    for panic_at in 0..4 {
        panicking_drop_in_advance(panic_at, false);
    }
}

#[test]
fn a_panicking_drop_in_clear_drops_every_other_item_once() {
    panicking_drop_in_advance(0, true);
    panicking_drop_in_advance(2, true);
    panicking_drop_in_advance(3, true);
}

#[test]
fn a_panicking_drop_while_the_ring_is_dropped() {
    quiet_expected_panics();
    for panic_at in [0, 2] {
        let log = Log::new();
        let mut ring = parked_ring(&log, |cap| cap - 2);
        let cap = ring.capacity();
        let pushed = fill(&mut ring, &log, cap - 1);
        log.panic_on_drop.set(Some(pushed[panic_at]));
        let result = panic::catch_unwind(AssertUnwindSafe(move || drop(ring)));
        assert!(result.is_err(), "the panic in a drop was swallowed");
        log.assert_all_dropped_once(&[], "after the ring's drop unwound");
    }
}

#[test]
fn a_panicking_drop_while_an_into_iter_is_dropped() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let pushed = fill(&mut ring, &log, cap);
    log.panic_on_drop.set(Some(pushed[3]));
    let mut items = ring.into_iter();
    let first = items.next();
    let result = panic::catch_unwind(AssertUnwindSafe(move || drop(items)));
    assert!(result.is_err(), "the panic in a drop was swallowed");
    log.assert_all_dropped_once(&[pushed[0]], "after the iterator's drop unwound");
    drop(first);
    log.assert_all_dropped_once(&[], "at the end");
}

#[test]
fn a_panicking_drop_of_an_item_evicted_by_extend() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 1);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, cap);
    let new = log.items(3);
    let new_ids: Vec<u32> = new.iter().map(|i| i.id).collect();
    log.panic_on_drop.set(Some(old[0]));
    let result = panic::catch_unwind(AssertUnwindSafe(|| ring.extend(new)));
    assert!(result.is_err(), "the panic in a drop was swallowed");
    log.panic_on_drop.set(None);

    // The ring is full of consecutive items of `old ++ new`, and nothing is lost or
    // dropped twice (the items extend did not reach went down with its iterator).
    let all: Vec<u32> = old.iter().chain(&new_ids).copied().collect();
    let now = ids(&ring);
    assert!(
        all.windows(now.len()).any(|w| w == now),
        "the ring holds {now:?}, not a run of {all:?}"
    );
    assert_eq!(ring.len(), now.len());
    assert!(
        ring.len() >= cap - 1,
        "extend lost items: len {}",
        ring.len()
    );
    log.assert_conserved(Some(&ring), &[], "after the panic");
    assert_eq!(log.drops(old[0]), 1);

    ring.extend(log.items(2));
    log.assert_conserved(Some(&ring), &[], "after a second extend");
    drop(ring);
    log.assert_all_dropped_once(&[], "after dropping the ring");
}

// ---------------------------------------------------------------------------------------
// Panicking `Clone` and iterators
// ---------------------------------------------------------------------------------------

#[test]
fn a_panicking_clone_inside_extend() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, cap - 1);
    let source = log.items(4);
    let first_clone = log.created.get();
    log.panic_on_clone.set(Some(source[3].id));
    // Clones 0 and 1 fill the free slot and evict old[0]; clone 2 evicts old[1].
    let result = panic::catch_unwind(AssertUnwindSafe(|| ring.extend(source.iter().cloned())));
    assert!(result.is_err(), "the panic in a clone was swallowed");
    log.panic_on_clone.set(None);
    let clones: Vec<u32> = (first_clone..log.created.get()).collect();
    assert_eq!(clones.len(), 3, "clones made before the panic");
    let expected: Vec<u32> = old[2..].iter().chain(&clones).copied().collect();
    assert_eq!(ids(&ring), expected);
    log.assert_drops(old[..2].iter().copied(), 1, "evicted");
    let source_ids: Vec<u32> = source.iter().map(|i| i.id).collect();
    log.assert_conserved(Some(&ring), &source_ids, "after the panic");

    drop(ring.push_overwrite(log.item()));
    drop(source);
    drop(ring);
    log.assert_all_dropped_once(&[], "at the end");
}

#[test]
fn an_iterator_panicking_inside_extend() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 1);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, cap - 2);
    let mut made = Vec::new();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        ring.extend((0..).map(|i| {
            if i == 3 {
                panic!("intentional panic in the iterator");
            }
            let item = log.item();
            made.push(item.id);
            item
        }));
    }));
    assert!(result.is_err(), "the iterator's panic was swallowed");
    // Two free slots, then one eviction.
    assert_eq!(made.len(), 3);
    let expected: Vec<u32> = old[1..].iter().chain(&made).copied().collect();
    assert_eq!(ids(&ring), expected);
    log.assert_conserved(Some(&ring), &[], "after the panic");
    assert_eq!(
        ring.pop().map(|i| i.id),
        Some(old[1]),
        "pop after the panic"
    );
    drop(ring);
    log.assert_all_dropped_once(&[], "at the end");
}

#[test]
fn a_panicking_clone_inside_fill_from_iter_commits_what_was_written() {
    quiet_expected_panics();
    let log = Log::new();
    let mut ring = parked_ring(&log, |cap| cap - 2);
    let cap = ring.capacity();
    let old = fill(&mut ring, &log, 1);
    // Free slots from cap-1 on: the clones cross the physical end.
    let source = log.items(cap);
    let first_clone = log.created.get();
    log.panic_on_clone.set(Some(source[2].id));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        ring.write_chunk().fill_from_iter(source.iter().cloned())
    }));
    assert!(result.is_err(), "the panic in a clone was swallowed");
    log.panic_on_clone.set(None);
    let clones: Vec<u32> = (first_clone..log.created.get()).collect();
    assert_eq!(clones.len(), 2, "clones made before the panic");
    assert_eq!(
        ring.len(),
        1 + 2,
        "the clones written before the panic are committed"
    );
    let expected: Vec<u32> = old.iter().chain(&clones).copied().collect();
    assert_eq!(ids(&ring), expected);
    log.assert_drops(clones.iter().copied(), 0, "committed clones");
    let source_ids: Vec<u32> = source.iter().map(|i| i.id).collect();
    log.assert_conserved(Some(&ring), &source_ids, "after the panic");

    // The ring still works, and the panicking item is not pulled once the chunk is full.
    log.panic_on_clone.set(Some(source[cap - 3].id));
    let n = ring.write_chunk().fill_from_iter(source.iter().cloned());
    assert_eq!(n, cap - 3, "fill_from_iter after the panic");
    log.panic_on_clone.set(None);
    assert!(ring.is_full());
    assert_eq!(ring.pop().map(|i| i.id), Some(old[0]));
    drop(source);
    drop(ring);
    log.assert_all_dropped_once(&[], "at the end");
}

// ---------------------------------------------------------------------------------------
// Zero-sized types
// ---------------------------------------------------------------------------------------

/// Drops of `Zst<K>`, one counter per test so that tests can run in parallel.
static ZST_DROPS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];
/// `Zst<K>`'s drop number `ZST_PANIC_AT[K]` (counting from 1) panics; 0 for never.
static ZST_PANIC_AT: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

#[derive(Debug)]
struct Zst<const K: usize>;

impl<const K: usize> Zst<K> {
    fn drops() -> usize {
        ZST_DROPS[K].load(Ordering::SeqCst)
    }
}

impl<const K: usize> Drop for Zst<K> {
    fn drop(&mut self) {
        let n = ZST_DROPS[K].fetch_add(1, Ordering::SeqCst) + 1;
        if ZST_PANIC_AT[K].load(Ordering::SeqCst) == n {
            panic!("intentional panic in zero-sized drop number {n}");
        }
    }
}

fn zst_ring<const K: usize>(capacity: usize) -> PicoRing<Zst<K>> {
    match PicoRing::with_capacity(capacity) {
        Ok(ring) => ring,
        Err(err) => panic!("with_capacity({capacity}) failed: {err}"),
    }
}

#[test]
fn zero_sized_items_are_dropped_once() {
    type Z = Zst<0>;
    let mut ring = zst_ring::<0>(5);
    assert_eq!(ring.capacity(), 5);
    for _ in 0..5 {
        assert!(ring.push(Zst).is_ok());
    }
    assert_eq!(Z::drops(), 0);
    let back = ring.push(Zst);
    assert!(back.is_err(), "push into a full ring");
    assert_eq!(Z::drops(), 0, "the refused item was dropped by push");
    drop(back);
    assert_eq!(Z::drops(), 1);

    let popped = ring.pop();
    assert!(popped.is_some());
    assert_eq!(Z::drops(), 1, "pop dropped the item");
    drop(popped);
    assert_eq!(Z::drops(), 2);

    ring.advance_tail(2);
    assert_eq!((Z::drops(), ring.len()), (4, 2), "advance_tail(2)");

    ring.extend([Zst, Zst, Zst, Zst]); // 3 free slots: evicts 1
    assert_eq!((Z::drops(), ring.len()), (5, 5), "extend");
    let evicted = ring.push_overwrite(Zst);
    assert!(evicted.is_some());
    assert_eq!(Z::drops(), 5, "push_overwrite dropped the evicted item");
    drop(evicted);
    assert_eq!(Z::drops(), 6);

    // Uncommitted values are forgotten; committed ones count.
    ring.advance_tail(3);
    assert_eq!((Z::drops(), ring.len()), (9, 2));
    let mut chunk = ring.write_chunk();
    for slot in chunk.as_mut_slice() {
        slot.write(Zst);
    }
    drop(chunk);
    assert_eq!(
        (Z::drops(), ring.len()),
        (9, 2),
        "uncommitted ZSTs were dropped"
    );
    let mut chunk = ring.write_chunk();
    assert_eq!(chunk.len(), 3);
    for slot in chunk.as_mut_slice() {
        slot.write(Zst);
    }
    // SAFETY: all 3 slots of the chunk, so also the first 2, were initialised just above.
    unsafe { chunk.commit(2) };
    assert_eq!((Z::drops(), ring.len()), (9, 4), "commit(2)");
    assert_eq!(ring.write_chunk().fill_from_iter([Zst, Zst, Zst]), 1);
    // The two that did not fit went down with the array iterator.
    assert_eq!((Z::drops(), ring.len()), (11, 5), "fill_from_iter");

    let mut items = ring.into_iter();
    let first = items.next();
    assert!(first.is_some());
    drop(items);
    assert_eq!(Z::drops(), 15, "the IntoIter dropped the 4 items left");
    drop(first);
    assert_eq!(Z::drops(), 16);

    let mut ring = zst_ring::<0>(3);
    ring.extend([Zst, Zst]);
    ring.clear();
    assert_eq!(Z::drops(), 18, "clear");
    ring.extend([Zst, Zst, Zst]);
    drop(ring);
    assert_eq!(Z::drops(), 21, "dropping the ring");
}

#[test]
fn a_panicking_zero_sized_drop_in_advance_tail() {
    quiet_expected_panics();
    type Z = Zst<1>;
    let mut ring = zst_ring::<1>(6);
    ring.extend([Zst, Zst, Zst, Zst, Zst, Zst]);
    // The second of the four drops panics.
    ZST_PANIC_AT[1].store(2, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(|| ring.advance_tail(4)));
    assert!(result.is_err(), "the panic in a drop was swallowed");
    ZST_PANIC_AT[1].store(0, Ordering::SeqCst);
    assert_eq!(Z::drops(), 4, "every item of the range is dropped");
    assert_eq!(ring.len(), 2);
    assert!(ring.push(Zst).is_ok());
    drop(ring.pop());
    assert_eq!((Z::drops(), ring.len()), (5, 2));

    ZST_PANIC_AT[1].store(7, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(move || drop(ring)));
    assert!(result.is_err(), "the panic in a drop was swallowed");
    assert_eq!(Z::drops(), 7, "dropping the ring dropped both items");
}
