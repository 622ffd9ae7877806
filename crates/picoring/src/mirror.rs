//! The mirrored core: typed storage of `capacity` slots, positions, and windows.
//!
//! This is the one place that knows how a position becomes a slot and a slot becomes an
//! address. Every structure of the crate keeps its indices as *positions* and asks the
//! [`Mirror`] for windows.
//!
//! # Positions
//!
//! A position is a counter in `0..2 * capacity` that wraps to 0 after `2 * capacity - 1`.
//! The extra lap tells a full ring from an empty one, so every slot is usable and
//! `len = distance(tail, head)`; the slot of a position is `pos` or `pos - capacity`. This
//! works for every capacity, not only powers of two, needs no division, and never drifts
//! (a counter that wraps at `2^64` would, for a capacity that is not a power of two). The
//! MPSC queue, whose capacity is a power of two, keeps free-running counters instead and
//! hands the mirror their low bits, a slot, which is a position too.
//!
//! # Windows
//!
//! A window is `len <= capacity` consecutive slots starting at a position. It starts in the
//! first copy and may run into the second, which shows the same memory, so it is always one
//! contiguous run of addresses. No window covers a slot twice (invariant 1).
//!
//! # The exact period (invariant 2)
//!
//! The mapping repeats every `capacity * size_of::<T>()` bytes, which must be a multiple of
//! the mapping granularity `g` (a power of two). So `capacity` is rounded up to a multiple of
//! `g / gcd(size_of::<T>(), g)`: the smallest period is `lcm(size_of::<T>(), g)` bytes.

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;

use crate::Error;
use crate::os::{self, Mapping};

/// The unit in which ring memory is mapped, in bytes.
///
/// A ring's byte size, `capacity() * size_of::<T>()`, is always a multiple of it: 4 KiB pages
/// on Linux x86-64, 16 KiB on Apple silicon, the 64 KiB allocation granularity on Windows.
///
/// # Examples
///
/// ```
/// let g = picoring::granularity();
/// assert!(g.is_power_of_two());
///
/// let ring = picoring::PicoRing::<[u8; 3]>::with_capacity(1).unwrap();
/// assert_eq!(ring.capacity() * 3 % g, 0);
/// ```
pub fn granularity() -> usize {
    os::granularity()
}

/// The capacity that a request for `min` slots of `size`-byte, `align`-aligned elements gets
/// when mapped in units of `granularity` bytes.
///
/// # Errors
///
/// [`Error::ZeroCapacity`], [`Error::AlignmentTooLarge`], or [`Error::CapacityOverflow`] when
/// positions (`4 * capacity`) or the mapping (`2 * capacity * size` bytes) overflow.
pub(crate) fn rounded_capacity(
    min: usize,
    size: usize,
    align: usize,
    granularity: usize,
) -> Result<usize, Error> {
    debug_assert!(granularity.is_power_of_two());
    if min == 0 {
        return Err(Error::ZeroCapacity);
    }
    if align > granularity {
        return Err(Error::AlignmentTooLarge { align, granularity });
    }
    let capacity = if size == 0 {
        min
    } else {
        let unit = granularity / gcd(size, granularity);
        let capacity = min
            .checked_next_multiple_of(unit)
            .ok_or(Error::CapacityOverflow)?;
        let bytes = capacity.checked_mul(size).ok_or(Error::CapacityOverflow)?;
        if bytes > isize::MAX as usize / 2 {
            return Err(Error::CapacityOverflow);
        }
        capacity
    };
    if capacity > usize::MAX / 4 {
        return Err(Error::CapacityOverflow);
    }
    Ok(capacity)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Drops the items of `items`, then runs `then`, also when a drop panics: the other items
/// are still dropped (as `drop_in_place` on a slice does), and `then` runs while the panic
/// unwinds.
///
/// This is how a consumer gives up items: the slots go back to the producer side (`then`)
/// only once nothing will read them again.
///
/// # Safety
///
/// `items` holds initialised items that nobody reads or drops afterwards.
pub(crate) unsafe fn drop_then<T>(items: *mut [T], then: impl FnOnce()) {
    struct Then<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Then<F> {
        fn drop(&mut self) {
            if let Some(then) = self.0.take() {
                then();
            }
        }
    }
    let _then = Then(Some(then));
    // SAFETY: forwarded from the caller.
    unsafe { std::ptr::drop_in_place(items) };
}

/// Passes a pointer through a barrier the optimiser cannot see through.
///
/// The two copies of a slot are two addresses of one memory, which the compiler does not
/// know: left alone, it may assume a write through one copy leaves the other unchanged and
/// reuse a stale read (research/picoring.md 3.1). Every window starts from a laundered base,
/// so each operation reads memory afresh and finishes its writes before the next one.
#[inline(always)]
fn launder<T>(ptr: *mut T) -> *mut T {
    #[cfg(all(
        not(miri),
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "aarch64",
            target_arch = "arm",
            target_arch = "riscv64",
            target_arch = "riscv32",
            target_arch = "loongarch64"
        )
    ))]
    {
        let mut ptr = ptr;
        // SAFETY: the template is a comment: the asm executes no instruction and returns the
        // pointer unchanged. Without `nomem`/`pure`, the compiler must assume it reads and
        // writes memory, which is the barrier wanted here.
        unsafe { core::arch::asm!("/* {0} */", inout(reg) ptr, options(nostack, preserves_flags)) };
        ptr
    }
    #[cfg(not(all(
        not(miri),
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "aarch64",
            target_arch = "arm",
            target_arch = "riscv64",
            target_arch = "riscv32",
            target_arch = "loongarch64"
        )
    )))]
    {
        std::hint::black_box(ptr)
    }
}

/// The size of a cache line, as far as prefetching is concerned.
pub(crate) const LINE: usize = 64;

/// How far ahead of a one-slot push or pop the cache line is fetched, in bytes: at a few
/// nanoseconds per item, far enough ahead to hide a transfer between cores.
const AHEAD: usize = 1024;

/// The most bytes fetched ahead of a batch.
const AHEAD_OF_BATCH: usize = 4096;

/// Asks the processor to bring the cache line of `addr` into this core's cache: for writing
/// (taking ownership from another core's cache) when `write`, else for reading.
///
/// A hint: it changes no memory and never faults, whatever the address.
#[inline(always)]
pub(crate) fn prefetch(addr: *const u8, write: bool) {
    /// The hint for writing or the one for reading, on the address of `addr`.
    #[cfg(all(not(miri), any(target_arch = "x86_64", target_arch = "aarch64")))]
    macro_rules! hint {
        ($for_write:literal, $for_read:literal) => {
            if write {
                core::arch::asm!($for_write, in(reg) addr.addr(), options(nomem, nostack, preserves_flags));
            } else {
                core::arch::asm!($for_read, in(reg) addr.addr(), options(nomem, nostack, preserves_flags));
            }
        };
    }
    #[cfg(all(not(miri), target_arch = "x86_64"))]
    // SAFETY: a prefetch neither reads nor writes memory as far as the program can tell, and
    // does not fault on any address. x86-64 processors that predate PREFETCHW decode its
    // opcode as a no-operation. (32-bit x86 gets no hints: some of its processors fault.)
    unsafe {
        hint!("prefetchw [{0}]", "prefetcht0 [{0}]");
    }
    #[cfg(all(not(miri), target_arch = "aarch64"))]
    // SAFETY: as above: PRFM is a hint that never faults.
    unsafe {
        hint!("prfm pstl1keep, [{0}]", "prfm pldl1keep, [{0}]");
    }
    #[cfg(not(all(not(miri), any(target_arch = "x86_64", target_arch = "aarch64"))))]
    let _ = (addr, write);
}

/// The number of bytes to fetch ahead of a batch of `n` slots of `size` bytes, by a side
/// that owns the `room` slots from the batch's first: the batch, but at most
/// [`AHEAD_OF_BATCH`], and nothing of the last line of the room nor after it.
fn batch_ahead(n: usize, room: usize, size: usize) -> usize {
    let room = room.saturating_mul(size).saturating_sub(2 * LINE);
    n.saturating_mul(size).min(AHEAD_OF_BATCH).min(room)
}

/// Where the slots of a mirror are and how positions map to them: a copy of this lets a
/// hot loop keep the ring's geometry in registers.
///
/// Positions run over `0..2 * capacity`, so that a full ring (`head - tail == capacity`) and
/// an empty one (`head == tail`) differ while every slot is usable.
pub(crate) struct Geometry<T> {
    /// First slot of the first copy (dangling for zero-sized `T`).
    ptr: NonNull<T>,
    capacity: usize,
}

impl<T> Clone for Geometry<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Geometry<T> {}

impl<T> Geometry<T> {
    /// The number of slots, every one of them usable.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The slot that `pos` refers to.
    #[inline]
    pub(crate) fn slot(&self, pos: usize) -> usize {
        debug_assert!(pos < 2 * self.capacity, "position {pos} out of range");
        if pos >= self.capacity {
            pos - self.capacity
        } else {
            pos
        }
    }

    /// The position `n` slots after `pos`.
    #[inline]
    pub(crate) fn add(&self, pos: usize, n: usize) -> usize {
        debug_assert!(pos < 2 * self.capacity && n <= self.capacity);
        let next = pos + n;
        if next >= 2 * self.capacity {
            next - 2 * self.capacity
        } else {
            next
        }
    }

    /// The position after `pos`: [`add(pos, 1)`](Self::add) in fewer instructions.
    #[inline]
    pub(crate) fn next(&self, pos: usize) -> usize {
        debug_assert!(pos < 2 * self.capacity);
        let next = pos + 1;
        if next == 2 * self.capacity { 0 } else { next }
    }

    /// Whether a ring whose tail is `tail` and whose head is `head` is full: the two are a
    /// capacity apart, whichever is ahead in `0..2 * capacity`.
    #[inline]
    pub(crate) fn is_full(&self, tail: usize, head: usize) -> bool {
        debug_assert!(tail < 2 * self.capacity && head < 2 * self.capacity);
        head.abs_diff(tail) == self.capacity
    }

    /// The number of slots from `from` to `to`: the length of a ring whose tail is `from`
    /// and whose head is `to`.
    #[inline]
    pub(crate) fn distance(&self, from: usize, to: usize) -> usize {
        debug_assert!(from < 2 * self.capacity && to < 2 * self.capacity);
        let d = if to >= from {
            to - from
        } else {
            to + 2 * self.capacity - from
        };
        debug_assert!(
            d <= self.capacity,
            "positions {from}..{to} are more than a lap apart"
        );
        d
    }

    /// The first of `len` contiguous slots starting at `pos`.
    ///
    /// The pointer is valid for `len <= capacity` slots while the mirror it came from lives;
    /// making it into a reference is the caller's business (which slots are initialised,
    /// who may write).
    #[inline]
    pub(crate) fn window(&self, pos: usize, len: usize) -> *mut T {
        self.slot_window(self.slot(pos), len)
    }

    /// [`window`](Self::window) for a caller that has the slot already (`slot < capacity`,
    /// which is a position too).
    #[inline]
    pub(crate) fn slot_window(&self, slot: usize, len: usize) -> *mut T {
        debug_assert!(slot < self.capacity, "slot {slot} out of range");
        debug_assert!(len <= self.capacity, "a window longer than the ring");
        // SAFETY: the mapping holds `2 * capacity` slots and `slot < capacity`, so the
        // result stays inside it; for zero-sized `T` the offset is a no-op.
        unsafe { launder(self.ptr.as_ptr()).add(slot) }
    }

    /// After a one-slot access to `slot` by a side that may go on over the `room` slots from
    /// it: when `slot` starts a cache line, fetches the line [`AHEAD`] bytes on, for writing
    /// or for reading, if that line lies inside the room with a line to spare.
    ///
    /// The room is what this side owns: free slots for a producer, readable ones for a
    /// consumer. The spare line keeps the fetch off the line that the other side may still
    /// be using, so a fetch never takes a line away from it.
    #[inline(always)]
    pub(crate) fn prefetch_after_one(&self, slot: *mut T, room: usize, write: bool) {
        let size = size_of::<T>();
        // Items of `AHEAD` bytes or more are copied in long runs that the hardware
        // prefetcher follows on its own.
        if size < AHEAD
            && slot.addr() % LINE < size
            && room.saturating_mul(size) >= AHEAD + 2 * LINE
        {
            prefetch(slot.cast::<u8>().wrapping_add(AHEAD), write);
        }
    }

    /// Before a batch of `n` slots from `slot` by a side that owns the `room` slots from it:
    /// fetches the lines of the batch (at most [`AHEAD_OF_BATCH`] bytes), for writing or for
    /// reading, that lie inside the room with a line to spare.
    #[inline]
    pub(crate) fn prefetch_batch(&self, slot: *mut T, n: usize, room: usize, write: bool) {
        let bytes = batch_ahead(n, room, size_of::<T>());
        let start = slot.cast::<u8>();
        let mut offset = 0;
        while offset < bytes {
            prefetch(start.wrapping_add(offset), write);
            offset += LINE;
        }
    }
}

/// Typed mirrored storage of `capacity` slots of `T`.
///
/// It owns the mapping, not the values: which slots hold a live `T` is the business of the
/// structure above, which also drops them.
pub(crate) struct Mirror<T> {
    geometry: Geometry<T>,
    /// `None` for zero-sized `T`, which needs no memory.
    mapping: Option<Mapping>,
    _slots: PhantomData<T>,
}

// SAFETY: the mirror is storage for `T`s; moving it to another thread moves those values.
unsafe impl<T: Send> Send for Mirror<T> {}
// SAFETY: shared access hands out `&T` at most; heap-backend bookkeeping is behind a mutex.
unsafe impl<T: Sync> Sync for Mirror<T> {}

impl<T> Mirror<T> {
    /// Maps storage for at least `min` slots.
    ///
    /// # Errors
    ///
    /// See [`rounded_capacity`]; [`Error::Map`] when the OS refuses the mapping.
    pub(crate) fn with_capacity(min: usize) -> Result<Mirror<T>, Error> {
        let size = size_of::<T>();
        let capacity = rounded_capacity(min, size, align_of::<T>(), os::granularity())?;
        if size == 0 {
            return Ok(Mirror {
                geometry: Geometry {
                    ptr: NonNull::dangling(),
                    capacity,
                },
                mapping: None,
                _slots: PhantomData,
            });
        }
        let mapping = Mapping::new(capacity * size)?;
        Ok(Mirror {
            geometry: Geometry {
                // The mapping is granularity-aligned, and `align_of::<T>() <= granularity`.
                ptr: mapping.base().cast(),
                capacity,
            },
            mapping: Some(mapping),
            _slots: PhantomData,
        })
    }

    /// The slots' geometry, to copy into a structure's hot state.
    #[inline]
    pub(crate) fn geometry(&self) -> Geometry<T> {
        self.geometry
    }

    /// The number of slots, every one of them usable.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.geometry.capacity
    }

    /// See [`Geometry::slot`].
    #[inline]
    pub(crate) fn slot(&self, pos: usize) -> usize {
        self.geometry.slot(pos)
    }

    /// See [`Geometry::add`].
    #[inline]
    pub(crate) fn add(&self, pos: usize, n: usize) -> usize {
        self.geometry.add(pos, n)
    }

    /// See [`Geometry::distance`].
    #[inline]
    pub(crate) fn distance(&self, from: usize, to: usize) -> usize {
        self.geometry.distance(from, to)
    }

    /// See [`Geometry::window`].
    #[inline]
    pub(crate) fn window(&self, pos: usize, len: usize) -> *mut T {
        self.geometry.window(pos, len)
    }

    /// See [`Geometry::slot_window`].
    #[inline]
    pub(crate) fn slot_window(&self, slot: usize, len: usize) -> *mut T {
        self.geometry.slot_window(slot, len)
    }

    /// See [`Geometry::prefetch_after_one`].
    #[inline(always)]
    pub(crate) fn prefetch_after_one(&self, slot: *mut T, room: usize, write: bool) {
        self.geometry.prefetch_after_one(slot, room, write);
    }

    /// Reports that the window `(pos, len)` was written, before it is published.
    ///
    /// # Safety
    ///
    /// `len <= capacity`; nobody holds a reference into the window's slots, or reads or
    /// writes them from another thread, until this returns.
    #[inline(always)]
    pub(crate) unsafe fn written(&self, pos: usize, len: usize) {
        if let Some(mapping) = &self.mapping {
            let size = size_of::<T>();
            // SAFETY: the window lies in the mapping (see `window`); the rest is forwarded.
            unsafe { mapping.written(self.slot(pos) * size, len * size) };
        }
    }

    /// Reports that the window `(pos, len)` is lent out as a mutable slice.
    #[inline(always)]
    pub(crate) fn lend(&self, pos: usize, len: usize) {
        if let Some(mapping) = &self.mapping {
            let size = size_of::<T>();
            mapping.lend(self.slot(pos) * size, len * size);
        }
    }

    /// Ends the effect of an earlier [`Mirror::lend`]; every reader calls it first.
    #[inline(always)]
    pub(crate) fn settle(&self) {
        if let Some(mapping) = &self.mapping {
            mapping.settle();
        }
    }
}

impl<T> std::fmt::Debug for Mirror<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mirror")
            .field("capacity", &self.geometry.capacity)
            .field("mapping", &self.mapping)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fetch_ahead_inside_the_room_only() {
        // The batch itself, when the room is much larger.
        assert_eq!(batch_ahead(64, 10_000, 8), 512);
        // At most `AHEAD_OF_BATCH`.
        assert_eq!(batch_ahead(4096, 100_000, 8), AHEAD_OF_BATCH);
        // Two lines short of the room's end, so never the line the other side may use.
        assert_eq!(batch_ahead(64, 80, 8), 80 * 8 - 2 * LINE);
        assert_eq!(batch_ahead(64, 16, 8), 0);
        assert_eq!(batch_ahead(64, 0, 8), 0);
        // Zero-sized items have no lines; huge counts do not overflow.
        assert_eq!(batch_ahead(usize::MAX, usize::MAX, 0), 0);
        assert_eq!(batch_ahead(usize::MAX, usize::MAX, 4100), AHEAD_OF_BATCH);
    }

    #[test]
    fn prefetching_any_address_is_harmless() {
        // Hints never fault: not on null, not past a mapping, not on a dangling pointer.
        for addr in [0usize, 1, 4096, usize::MAX - 63, usize::MAX] {
            prefetch(std::ptr::without_provenance(addr), true);
            prefetch(std::ptr::without_provenance(addr), false);
        }
        let mirror = Mirror::<u64>::with_capacity(512).unwrap();
        let geo = mirror.geometry();
        let last = geo.window(geo.capacity() - 1, 1);
        geo.prefetch_after_one(last, usize::MAX, true);
        geo.prefetch_batch(last, usize::MAX, usize::MAX, false);
    }

    #[test]
    fn rounding_follows_the_lcm_rule() {
        let g = 4096;
        assert_eq!(rounded_capacity(1, 1, 1, g).unwrap(), 4096);
        assert_eq!(rounded_capacity(4096, 1, 1, g).unwrap(), 4096);
        assert_eq!(rounded_capacity(4097, 1, 1, g).unwrap(), 8192);
        assert_eq!(rounded_capacity(1, 3, 1, g).unwrap(), 4096);
        assert_eq!(rounded_capacity(1, 12, 4, g).unwrap(), 1024);
        assert_eq!(rounded_capacity(1, 24, 8, g).unwrap(), 512);
        assert_eq!(rounded_capacity(1, 48, 8, g).unwrap(), 256);
        assert_eq!(rounded_capacity(1, 100, 4, g).unwrap(), 1024);
        assert_eq!(rounded_capacity(1, 4096, 1, g).unwrap(), 1);
        assert_eq!(rounded_capacity(3, 4096, 1, g).unwrap(), 3);
        assert_eq!(rounded_capacity(1, 4100, 4, g).unwrap(), 1024);
        assert_eq!(rounded_capacity(1, 65536, 1, g).unwrap(), 1);
        for size in 1..300 {
            let cap = rounded_capacity(1, size, 1, g).unwrap();
            assert_eq!(cap * size % g, 0, "size {size}");
            assert_eq!(cap * size, lcm(size, g), "size {size}: the smallest period");
        }
    }

    fn lcm(a: usize, b: usize) -> usize {
        a / gcd(a, b) * b
    }

    #[test]
    fn rounding_refuses_bad_requests() {
        let g = 4096;
        assert!(matches!(
            rounded_capacity(0, 1, 1, g),
            Err(Error::ZeroCapacity)
        ));
        assert!(matches!(
            rounded_capacity(0, 0, 1, g),
            Err(Error::ZeroCapacity)
        ));
        assert!(matches!(
            rounded_capacity(1, 8192, 8192, g),
            Err(Error::AlignmentTooLarge {
                align: 8192,
                granularity: 4096
            })
        ));
        assert!(matches!(
            rounded_capacity(usize::MAX, 1, 1, g),
            Err(Error::CapacityOverflow)
        ));
        assert!(matches!(
            rounded_capacity(usize::MAX, 0, 1, g),
            Err(Error::CapacityOverflow)
        ));
        assert!(matches!(
            rounded_capacity(usize::MAX / 8, 16, 1, g),
            Err(Error::CapacityOverflow)
        ));
        assert!(matches!(
            rounded_capacity(isize::MAX as usize / 2 + 1, 1, 1, g),
            Err(Error::CapacityOverflow)
        ));
        assert_eq!(
            rounded_capacity(usize::MAX / 4, 0, 1, g).unwrap(),
            usize::MAX / 4
        );
    }

    #[test]
    fn positions_wrap_after_two_laps() {
        let m = Mirror::<u8>::with_capacity(1).unwrap();
        let cap = m.capacity();
        assert_eq!(m.slot(0), 0);
        assert_eq!(m.slot(cap - 1), cap - 1);
        assert_eq!(m.slot(cap), 0);
        assert_eq!(m.slot(2 * cap - 1), cap - 1);
        assert_eq!(m.add(2 * cap - 1, 1), 0);
        assert_eq!(m.add(cap, cap), 0);
        assert_eq!(m.add(3, cap), cap + 3);
        assert_eq!(m.distance(0, 0), 0);
        assert_eq!(m.distance(0, cap), cap);
        assert_eq!(m.distance(cap + 5, 5), cap);
        assert_eq!(m.distance(2 * cap - 1, 0), 1);
        assert_eq!(m.distance(2 * cap - 1, cap - 2), cap - 1);
    }
}
