//! [`PicoList`]: a chunked list for GB-scale data that never moves an element, and its
//! iterators.

use std::alloc::{self, Layout};
use std::fmt;
use std::io;
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::mem::{self, size_of};
use std::ops::{Index, IndexMut};
use std::ptr::{self, NonNull};
use std::slice;

use crate::{Error, os};

/// A growable list stored in fixed-size chunks, for data too large to reallocate.
///
/// A `Vec` that outgrows its buffer copies every element into a new one twice as large: a
/// stall proportional to the whole list, with both buffers alive at once. A `PicoList`
/// instead allocates one more chunk of `CHUNK` elements when the last one is full, and
/// never moves an element once pushed: pushing costs the same at 10 elements and at 10
/// billion, a reference to an element is never invalidated by growth, and the memory in use
/// is the data plus at most one partly filled chunk.
///
/// Chunks are plain heap allocations (not mirrored mappings: a list needs no wrap-around).
/// `CHUNK` must be a power of two, so `list[i]` is a shift, a mask and two loads; the
/// default, 16384, makes a chunk of `u64` 128 KiB, which the allocator serves with its own
/// mapping.
///
/// # Examples
///
/// ```
/// # #![allow(unused_must_use)] // the seed's snippet, as written, ignores `set`'s result
/// use picoring::PicoList;
/// // Create a list with 128KB chunks (16384 * 8 bytes for u64)
/// let mut list = PicoList::<u64, 16384>::new();
/// // 1. Basic Pushing
/// list.push(10);
/// list.extend_from_slice(&[20, 30, 40, 50]);
/// // 2. Ergonomic Indexing (Zero Overhead)
/// let value = list[0]; // Direct access
/// list[1] = 99; // Direct mutation
/// list.set(2, 100); // Safe mutation (returns bool)
/// // 3. Iteration (Hardware Mirroring optimized)
/// for item in &list {
///     println!("Value: {}", item);
/// }
/// // 4. Mutable Iteration
/// for item in &mut list {
///     *item *= 2;
/// }
/// // 5. Functional methods
/// let sum: u64 = list.iter().sum();
/// # assert_eq!((value, sum), (10, 2 * (10 + 99 + 100 + 40 + 50)));
/// ```
///
/// A chunk size that is not a power of two does not compile:
///
/// ```compile_fail,E0080
/// let list = picoring::PicoList::<u64, 1000>::new();
/// ```
pub struct PicoList<T, const CHUNK: usize = 16384> {
    table: Table<T, CHUNK>,
    /// Elements `0..len` are initialised; they fill the chunks in order.
    len: usize,
}

/// The chunk table: chunk `c` holds elements `c * CHUNK..(c + 1) * CHUNK`. It frees the
/// chunks, not the elements, when dropped.
///
/// Big chunks are carved, in address order, from blocks of pages mapped from the OS
/// ([`Slab`]s of 1, 1, 2, 4 .. 64 chunks), so that a long list lies in few, ascending
/// regions, as a `Vec` would: pages not yet written are not resident. Small chunks are heap
/// blocks of their own.
struct Table<T, const CHUNK: usize> {
    /// Each points to `CHUNK` slots (dangling for zero-sized `T`).
    chunks: Vec<NonNull<T>>,
    /// The blocks that paged chunks are carved from, in chunk order.
    slabs: Vec<Slab>,
    _owns: PhantomData<T>,
}

/// A block of pages holding chunks `first..first + count`.
struct Slab {
    base: NonNull<u8>,
    first: usize,
    count: usize,
}

/// The most chunks one slab holds.
const MAX_SLAB_CHUNKS: usize = 64;

impl<T, const CHUNK: usize> Table<T, CHUNK> {
    /// The layout of one chunk; a compile-time error unless `CHUNK` is a power of two and
    /// a chunk fits in `isize`.
    const LAYOUT: Layout = {
        assert!(
            CHUNK.is_power_of_two(),
            "PicoList: CHUNK must be a power of two"
        );
        let Some(size) = size_of::<T>().checked_mul(CHUNK) else {
            panic!("PicoList: a chunk of CHUNK elements overflows the address space")
        };
        match Layout::from_size_align(size, mem::align_of::<T>()) {
            Ok(layout) => layout,
            Err(_) => panic!("PicoList: a chunk of CHUNK elements overflows the address space"),
        }
    };

    /// Whether chunks are whole pages mapped from the OS rather than heap blocks: for big
    /// chunks, which then carry no allocator header and start on a page boundary.
    const PAGED: bool =
        Self::LAYOUT.size() >= os::pages::MIN_LEN && Self::LAYOUT.align() <= os::pages::ALIGN;

    /// Allocates one heap chunk (`!PAGED`); `None` if out of memory.
    fn alloc_chunk() -> Option<NonNull<T>> {
        if Self::LAYOUT.size() == 0 {
            Some(NonNull::dangling())
        } else {
            // SAFETY: the layout has a non-zero size.
            NonNull::new(unsafe { alloc::alloc(Self::LAYOUT) }.cast())
        }
    }

    /// Frees one heap chunk (`!PAGED`).
    ///
    /// # Safety
    ///
    /// `chunk` came from [`Table::alloc_chunk`] and holds no live element; it is not used
    /// again.
    unsafe fn free_chunk(chunk: NonNull<T>) {
        if Self::LAYOUT.size() != 0 {
            // SAFETY: allocated by `alloc_chunk` with this layout.
            unsafe { alloc::dealloc(chunk.as_ptr().cast(), Self::LAYOUT) };
        }
    }

    /// Carves the next paged chunk, mapping a new slab when the last one is used up;
    /// `None` if out of memory.
    fn carve_chunk(&mut self) -> Option<NonNull<T>> {
        let next = self.chunks.len();
        let full = self.slabs.last().is_none_or(|s| next == s.first + s.count);
        if full {
            let count = next.clamp(1, MAX_SLAB_CHUNKS);
            let bytes = count.checked_mul(Self::LAYOUT.size())?;
            self.slabs.try_reserve(1).ok()?;
            let base = os::pages::alloc(bytes)?;
            self.slabs.push(Slab {
                base,
                first: next,
                count,
            });
        }
        let slab = self.slabs.last()?;
        let offset = (next - slab.first) * Self::LAYOUT.size();
        // SAFETY: `next - first < count`, so the chunk lies inside the slab's mapping.
        Some(unsafe { slab.base.add(offset) }.cast())
    }

    /// Unmaps the slabs from the last one back while they hold no chunk below `keep`.
    fn free_slabs_from(&mut self, keep: usize) {
        while self.slabs.last().is_some_and(|s| s.first >= keep) {
            if let Some(slab) = self.slabs.pop() {
                // SAFETY: mapped by `carve_chunk` with this size; its chunks hold no
                // element and leave the table with it.
                unsafe { os::pages::free(slab.base, slab.count * Self::LAYOUT.size()) };
            }
        }
    }

    fn new() -> Self {
        let _ = Self::LAYOUT;
        Table {
            chunks: Vec::new(),
            slabs: Vec::new(),
            _owns: PhantomData,
        }
    }

    /// Allocates one more chunk.
    fn grow(&mut self) -> Result<(), Error> {
        let out_of_memory = || Error::Map {
            call: "alloc",
            source: io::ErrorKind::OutOfMemory.into(),
        };
        self.chunks.try_reserve(1).map_err(|_| out_of_memory())?;
        let chunk = if Self::PAGED {
            self.carve_chunk()
        } else {
            Self::alloc_chunk()
        };
        self.chunks.push(chunk.ok_or_else(out_of_memory)?);
        Ok(())
    }

    /// The slot of element `i`.
    ///
    /// # Safety
    ///
    /// `i / CHUNK < self.chunks.len()`.
    #[inline(always)]
    unsafe fn slot(&self, i: usize) -> *mut T {
        debug_assert!(i / CHUNK < self.chunks.len());
        // SAFETY: chunk `i / CHUNK` exists (see the caller) and has `CHUNK` slots.
        unsafe { self.chunks.get_unchecked(i / CHUNK).as_ptr().add(i % CHUNK) }
    }

    /// Drops elements `from..to`, chunk by chunk. If a drop panics, the others are still
    /// dropped, as `Vec` does; a second panic aborts.
    ///
    /// # Safety
    ///
    /// Elements `from..to` are initialised, lie in allocated chunks, and are not used again.
    unsafe fn drop_range(&self, from: usize, to: usize) {
        /// Drops the rest of the range if dropping one chunk's part panics.
        struct Rest<'a, T, const CHUNK: usize> {
            table: &'a Table<T, CHUNK>,
            from: usize,
            to: usize,
        }
        impl<T, const CHUNK: usize> Drop for Rest<'_, T, CHUNK> {
            fn drop(&mut self) {
                // SAFETY: the range is the untouched rest of the caller's range.
                unsafe { self.table.drop_range(self.from, self.to) };
            }
        }

        if !mem::needs_drop::<T>() {
            return;
        }
        let mut pos = from;
        while pos < to {
            let end = to.min((pos / CHUNK + 1) * CHUNK);
            let rest = Rest {
                table: self,
                from: end,
                to,
            };
            // SAFETY: `pos..end` lies in one chunk and holds initialised elements that
            // nobody uses again (see the caller).
            unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.slot(pos), end - pos)) };
            mem::forget(rest);
            pos = end;
        }
    }

    /// Elements `from..to` of one chunk as a slice.
    ///
    /// # Safety
    ///
    /// The range lies in one allocated chunk and holds initialised elements.
    unsafe fn slice<'a>(&self, from: usize, to: usize) -> &'a [T] {
        // SAFETY: forwarded from the caller.
        unsafe { slice::from_raw_parts(self.slot(from), to - from) }
    }
}

impl<T, const CHUNK: usize> Drop for Table<T, CHUNK> {
    fn drop(&mut self) {
        if Self::PAGED {
            self.free_slabs_from(0);
        } else {
            for &chunk in &self.chunks {
                // SAFETY: allocated by `grow`, freed only here; the list dropped its
                // elements.
                unsafe { Self::free_chunk(chunk) };
            }
        }
    }
}

// SAFETY: a list owns its elements, like a `Vec<T>`: sending it sends them.
unsafe impl<T: Send, const CHUNK: usize> Send for PicoList<T, CHUNK> {}
// SAFETY: shared access hands out `&T` only, like a `Vec<T>`.
unsafe impl<T: Sync, const CHUNK: usize> Sync for PicoList<T, CHUNK> {}

impl<T, const CHUNK: usize> PicoList<T, CHUNK> {
    /// Creates an empty list; it allocates nothing until the first push.
    ///
    /// # Examples
    ///
    /// ```
    /// let list = picoring::PicoList::<u64>::new();
    /// assert!(list.is_empty());
    /// assert_eq!(list.chunk_count(), 0);
    /// ```
    pub fn new() -> Self {
        PicoList {
            table: Table::new(),
            len: 0,
        }
    }

    /// Creates an empty list with chunks allocated for at least `capacity` elements.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] when `capacity` elements do not fit the address space,
    /// and [`Error::Map`] (with call `"alloc"` and [`io::ErrorKind::OutOfMemory`]) when the
    /// memory cannot be allocated; nothing stays allocated then.
    ///
    /// # Examples
    ///
    /// ```
    /// let list = picoring::PicoList::<u8, 4096>::with_capacity(10_000).unwrap();
    /// assert_eq!(list.chunk_count(), 3);
    /// assert!(matches!(
    ///     picoring::PicoList::<u64>::with_capacity(usize::MAX),
    ///     Err(picoring::Error::CapacityOverflow)
    /// ));
    /// ```
    pub fn with_capacity(capacity: usize) -> Result<Self, Error> {
        let mut list = PicoList::new();
        if size_of::<T>() == 0 {
            return Ok(list);
        }
        let chunks = capacity.div_ceil(CHUNK);
        let bytes = chunks.checked_mul(Table::<T, CHUNK>::LAYOUT.size());
        if bytes.is_none_or(|b| b > isize::MAX as usize) {
            return Err(Error::CapacityOverflow);
        }
        list.table
            .chunks
            .try_reserve_exact(chunks)
            .map_err(|_| Error::CapacityOverflow)?;
        for _ in 0..chunks {
            list.table.grow()?;
        }
        Ok(list)
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of chunks allocated, full or not.
    pub fn chunk_count(&self) -> usize {
        self.table.chunks.len()
    }

    /// The number of elements the allocated chunks hold (`usize::MAX` for zero-sized `T`).
    pub fn capacity(&self) -> usize {
        if size_of::<T>() == 0 {
            usize::MAX
        } else {
            self.chunk_count() * CHUNK
        }
    }

    /// Appends `value`, allocating a chunk if the last one is full. No element moves.
    ///
    /// # Panics
    ///
    /// If the list of a zero-sized type already holds `usize::MAX` elements. Aborts, as
    /// `Vec` does, if a chunk cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut list = picoring::PicoList::<String, 2>::new();
    /// list.push("a".into());
    /// let first: *const String = &list[0];
    /// list.push("b".into());
    /// list.push("c".into());
    /// assert_eq!(list.chunk_count(), 2);
    /// assert!(std::ptr::eq(first, &list[0])); // growth moves nothing
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) {
        if self.len / CHUNK == self.table.chunks.len() {
            self.grow_for_push();
        }
        // SAFETY: the chunk of element `len` exists (just checked), and its slot is free.
        unsafe { self.table.slot(self.len).write(value) };
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn grow_for_push(&mut self) {
        if self.len == usize::MAX {
            panic!("cannot push: the list holds usize::MAX elements");
        }
        if self.table.grow().is_err() {
            alloc::handle_alloc_error(Table::<T, CHUNK>::LAYOUT);
        }
    }

    /// Removes and returns the last element, or `None` if the list is empty. The chunk
    /// stays allocated (see [`shrink_to_fit()`](Self::shrink_to_fit)).
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: element `len` was the last one; moving `len` below it first means it is
        // read out exactly once.
        Some(unsafe { self.table.slot(self.len).read() })
    }

    /// A reference to element `index`, or `None` if out of range.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&T> {
        if index < self.len {
            // SAFETY: elements below `len` are initialised, in allocated chunks.
            Some(unsafe { &*self.table.slot(index) })
        } else {
            None
        }
    }

    /// A mutable reference to element `index`, or `None` if out of range.
    #[inline]
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        if index < self.len {
            // SAFETY: as in `get`; `&mut self` makes the reference unique.
            Some(unsafe { &mut *self.table.slot(index) })
        } else {
            None
        }
    }

    /// Replaces element `index` with `value` (dropping the old one) and returns `true`, or
    /// returns `false` (dropping `value`) if `index` is out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut list: picoring::PicoList<i32> = [1, 2].into_iter().collect();
    /// assert!(list.set(1, 5));
    /// assert!(!list.set(2, 5));
    /// assert_eq!(list[1], 5);
    /// ```
    pub fn set(&mut self, index: usize, value: T) -> bool {
        match self.get_mut(index) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Keeps the first `len` elements and drops the rest; the chunks stay allocated.
    ///
    /// If an element's `Drop` panics, the list already has its new length and every other
    /// removed element is still dropped, as with `Vec::truncate`.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let old = mem::replace(&mut self.len, len);
        // SAFETY: elements `len..old` were initialised and are now outside the list.
        unsafe { self.table.drop_range(len, old) };
    }

    /// Drops every element; the chunks stay allocated.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Frees the chunks that hold no element.
    ///
    /// Big chunks are carved from blocks of pages; a block is returned to the OS once none
    /// of its chunks holds an element.
    pub fn shrink_to_fit(&mut self) {
        let keep = self.len.div_ceil(CHUNK);
        if Table::<T, CHUNK>::PAGED {
            // Chunks are carved at offsets that follow from their index, so those cut from
            // the table here are carved again, at the same place, by the next `grow`.
            self.table.chunks.truncate(keep);
            self.table.free_slabs_from(keep);
        } else {
            for chunk in self.table.chunks.drain(keep..) {
                // SAFETY: allocated by `grow`; it holds no element and leaves the table.
                unsafe { Table::<T, CHUNK>::free_chunk(chunk) };
            }
        }
        self.table.chunks.shrink_to_fit();
    }

    /// An iterator over the elements, in order.
    pub fn iter(&self) -> Iter<'_, T, CHUNK> {
        Iter::new(self)
    }

    /// An iterator over mutable references to the elements, in order.
    pub fn iter_mut(&mut self) -> IterMut<'_, T, CHUNK> {
        IterMut::new(self)
    }

    /// The elements as one slice per chunk, in order: every slice but the last has `CHUNK`
    /// elements. For bulk work that a slice does well (sums, `copy_from_slice`, I/O).
    ///
    /// # Examples
    ///
    /// ```
    /// let list: picoring::PicoList<u32, 4> = (0..10).collect();
    /// let lens: Vec<usize> = list.chunks().map(<[u32]>::len).collect();
    /// assert_eq!(lens, [4, 4, 2]);
    /// ```
    pub fn chunks(
        &self,
    ) -> impl DoubleEndedIterator<Item = &[T]> + ExactSizeIterator + FusedIterator + '_ {
        let len = self.len;
        (0..len.div_ceil(CHUNK)).map(move |c| {
            let from = c * CHUNK;
            // SAFETY: `from..min(len, from + CHUNK)` lies in chunk `c` and is initialised.
            unsafe { self.table.slice(from, len.min(from + CHUNK)) }
        })
    }

    /// The elements as one mutable slice per chunk, in order.
    pub fn chunks_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut [T]> + ExactSizeIterator + FusedIterator + '_ {
        let len = self.len;
        let table = &self.table;
        (0..len.div_ceil(CHUNK)).map(move |c| {
            let from = c * CHUNK;
            // SAFETY: as in `chunks`; each chunk is yielded once, so the slices are
            // disjoint, and `&mut self` keeps every other access away while they live.
            unsafe { slice::from_raw_parts_mut(table.slot(from), len.min(from + CHUNK) - from) }
        })
    }
}

impl<T: Clone, const CHUNK: usize> PicoList<T, CHUNK> {
    /// Appends a clone of every element of `items`, in order.
    ///
    /// If a `clone` panics, the clones made before it stay in the list.
    ///
    /// # Panics
    ///
    /// As [`push()`](Self::push).
    pub fn extend_from_slice(&mut self, items: &[T]) {
        /// Publishes the elements written so far, also when a `clone` unwinds.
        struct SetLen<'a> {
            len: &'a mut usize,
            local: usize,
        }
        impl Drop for SetLen<'_> {
            fn drop(&mut self) {
                *self.len = self.local;
            }
        }

        let mut rest = items;
        while !rest.is_empty() {
            if self.len / CHUNK == self.table.chunks.len() {
                self.grow_for_push();
            }
            let room = CHUNK - self.len % CHUNK;
            let (now, later) = rest.split_at(room.min(rest.len()));
            // SAFETY: the chunk of element `len` exists; the `now.len() <= room` slots that
            // follow it in the chunk are free.
            let dst = unsafe { self.table.slot(self.len) };
            let mut set_len = SetLen {
                local: self.len,
                len: &mut self.len,
            };
            for (k, item) in now.iter().enumerate() {
                // SAFETY: slot `k < room` of the free run above.
                unsafe { dst.add(k).write(item.clone()) };
                set_len.local += 1;
            }
            drop(set_len);
            rest = later;
        }
    }
}

impl<T, const CHUNK: usize> Drop for PicoList<T, CHUNK> {
    fn drop(&mut self) {
        // SAFETY: elements `0..len` are initialised and die with the list. If one panics,
        // the others are still dropped and the table still frees the chunks.
        unsafe { self.table.drop_range(0, self.len) };
    }
}

impl<T, const CHUNK: usize> Default for PicoList<T, CHUNK> {
    fn default() -> Self {
        PicoList::new()
    }
}

impl<T, const CHUNK: usize> Index<usize> for PicoList<T, CHUNK> {
    type Output = T;

    /// Element `index`.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    #[inline]
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(item) => item,
            None => index_out_of_bounds(index, self.len),
        }
    }
}

impl<T, const CHUNK: usize> IndexMut<usize> for PicoList<T, CHUNK> {
    /// Element `index`.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, index: usize) -> &mut T {
        let len = self.len;
        match self.get_mut(index) {
            Some(item) => item,
            None => index_out_of_bounds(index, len),
        }
    }
}

#[cold]
#[track_caller]
fn index_out_of_bounds(index: usize, len: usize) -> ! {
    panic!("index {index} is out of range for a list of {len} elements")
}

impl<T: Clone, const CHUNK: usize> Clone for PicoList<T, CHUNK> {
    fn clone(&self) -> Self {
        let mut list = PicoList::new();
        for chunk in self.chunks() {
            list.extend_from_slice(chunk);
        }
        list
    }
}

impl<T: PartialEq, const CHUNK: usize> PartialEq for PicoList<T, CHUNK> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.chunks().eq(other.chunks())
    }
}

impl<T: Eq, const CHUNK: usize> Eq for PicoList<T, CHUNK> {}

impl<T: fmt::Debug, const CHUNK: usize> fmt::Debug for PicoList<T, CHUNK> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T, const CHUNK: usize> Extend<T> for PicoList<T, CHUNK> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push(item);
        }
    }
}

impl<'a, T: Copy + 'a, const CHUNK: usize> Extend<&'a T> for PicoList<T, CHUNK> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<T, const CHUNK: usize> FromIterator<T> for PicoList<T, CHUNK> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = PicoList::new();
        list.extend(iter);
        list
    }
}

impl<'a, T, const CHUNK: usize> IntoIterator for &'a PicoList<T, CHUNK> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T, CHUNK>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T, const CHUNK: usize> IntoIterator for &'a mut PicoList<T, CHUNK> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T, CHUNK>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T, const CHUNK: usize> IntoIterator for PicoList<T, CHUNK> {
    type Item = T;
    type IntoIter = IntoIter<T, CHUNK>;

    fn into_iter(mut self) -> Self::IntoIter {
        let back = mem::take(&mut self.len);
        IntoIter {
            table: mem::replace(&mut self.table, Table::new()),
            front: 0,
            back,
        }
    }
}

mod iter;
pub use iter::{IntoIter, Iter, IterMut};
