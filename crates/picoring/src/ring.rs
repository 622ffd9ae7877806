//! [`PicoRing`]: a single-owner ring whose contents are always one slice.

use std::fmt;
use std::iter::FusedIterator;
use std::ptr;

use crate::Error;
use crate::chunk::WriteChunk;
use crate::mirror::Mirror;

/// A fixed-capacity FIFO ring buffer whose contents are always one contiguous slice.
///
/// Items are pushed at the head and popped at the tail, like a `VecDeque` that never grows.
/// Because the ring's memory is mapped twice, back to back, [`readable_slice()`] returns every
/// item as one `&[T]` even when the items wrap around the physical end of the buffer, and
/// [`write_chunk()`] lends every free slot as one `&mut [MaybeUninit<T>]`.
///
/// The capacity is rounded up so that the ring's byte size is a multiple of the mapping
/// [`granularity()`](crate::granularity); every slot of [`capacity()`] is usable.
///
/// `N` is a capacity chosen at compile time, for [`PicoRing::new()`]; rings sized at run time
/// use the default `N = 0` and [`PicoRing::with_capacity()`].
///
/// [`readable_slice()`]: PicoRing::readable_slice
/// [`write_chunk()`]: PicoRing::write_chunk
/// [`capacity()`]: PicoRing::capacity
///
/// # Examples
///
/// ```
/// # #![allow(unused_must_use)] // the seed's snippet, as written, ignores `push`'s result
/// use picoring::PicoRing;
///
/// let mut ring = PicoRing::<u8, 4096>::new().unwrap();
/// ring.push(255);
/// // hardware mirroring guarantees this slice is contiguous even if it wraps
/// let data = ring.readable_slice();
/// assert_eq!(data[0], 255);
/// ```
///
/// A view across the physical end:
///
/// ```
/// use picoring::PicoRing;
///
/// let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
/// let cap = ring.capacity();
/// ring.push_slice(&vec![0; cap - 2]);
/// ring.advance_tail(cap - 2);          // head and tail now sit 2 bytes before the end
/// ring.push_slice(b"wrapped!");        // 2 bytes at the end, 6 at the start
/// assert_eq!(ring.readable_slice(), b"wrapped!");
/// ```
///
/// Views borrow the ring, so none outlives a change to its contents:
///
/// ```compile_fail,E0502
/// let mut ring = picoring::PicoRing::<u8>::with_capacity(16).unwrap();
/// ring.push(1).unwrap();
/// let view = ring.readable_slice();
/// ring.advance_tail(1); // error: `view` still borrows the ring
/// assert_eq!(view[0], 1);
/// ```
///
/// A ring of values that must stay on one thread cannot be sent to another:
///
/// ```compile_fail,E0277
/// let ring = picoring::PicoRing::<std::rc::Rc<u8>>::with_capacity(16).unwrap();
/// std::thread::spawn(move || drop(ring)); // error: `Rc<u8>` is not `Send`
/// ```
///
/// # Fork
///
/// On Linux the ring's memory is not inherited by a child made by `fork()`
/// (`MADV_DONTFORK`): the child cannot see or corrupt the parent's ring. A child must not
/// touch a ring it inherited, nor drop one whose items need dropping; it may `exec`, exit,
/// or [`forget`](std::mem::forget) it.
pub struct PicoRing<T, const N: usize = 0> {
    mirror: Mirror<T>,
    /// Position of the next slot to write.
    head: usize,
    /// Position of the oldest item.
    tail: usize,
}

impl<T> PicoRing<T> {
    /// Creates an empty ring with room for at least `capacity` items.
    ///
    /// The capacity is rounded up so that `capacity * size_of::<T>()` is a multiple of the
    /// mapping [`granularity()`](crate::granularity); [`capacity()`](PicoRing::capacity)
    /// reports the result. Zero-sized types need no memory and get exactly `capacity`.
    ///
    /// Mapping memory takes several system calls. The mappings of up to 8 dropped rings of at
    /// most 1 MiB each are kept and reused by the next ring of the same byte size, so creating
    /// and dropping rings at a steady pace costs little after the first.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroCapacity`] for 0, [`Error::CapacityOverflow`] when the rounded byte size
    /// does not fit the address space, [`Error::AlignmentTooLarge`] when `T` is aligned more
    /// strictly than the granularity, and [`Error::Map`] when the OS refuses the mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::{Error, PicoRing};
    ///
    /// let ring = PicoRing::<u32>::with_capacity(1000).unwrap();
    /// assert!(ring.capacity() >= 1000);
    ///
    /// assert!(matches!(PicoRing::<u32>::with_capacity(usize::MAX), Err(Error::CapacityOverflow)));
    /// ```
    pub fn with_capacity(capacity: usize) -> Result<Self, Error> {
        PicoRing::from_mirror(Mirror::with_capacity(capacity)?)
    }
}

impl<T, const N: usize> PicoRing<T, N> {
    /// Creates an empty ring with room for at least `N` items.
    ///
    /// `N` must not be 0: `PicoRing::<T>::new()` does not compile; use
    /// [`PicoRing::with_capacity()`] for a capacity chosen at run time.
    ///
    /// # Errors
    ///
    /// As [`PicoRing::with_capacity()`].
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let ring = PicoRing::<u8, 4096>::new().unwrap();
    /// assert_eq!(ring.capacity(), 4096.max(picoring::granularity()));
    /// ```
    ///
    /// ```compile_fail,E0080
    /// let ring = picoring::PicoRing::<u8>::new(); // N = 0
    /// ```
    pub fn new() -> Result<Self, Error> {
        const {
            assert!(
                N > 0,
                "PicoRing::new() needs a capacity N > 0; use with_capacity for run-time sizes"
            )
        };
        PicoRing::from_mirror(Mirror::with_capacity(N)?)
    }

    fn from_mirror(mirror: Mirror<T>) -> Result<Self, Error> {
        Ok(PicoRing {
            mirror,
            head: 0,
            tail: 0,
        })
    }

    /// The number of items the ring can hold: the requested capacity, rounded up.
    pub fn capacity(&self) -> usize {
        self.mirror.capacity()
    }

    /// The number of items in the ring.
    pub fn len(&self) -> usize {
        self.mirror.distance(self.tail, self.head)
    }

    /// The number of free slots: `capacity() - len()`.
    pub fn vacant_len(&self) -> usize {
        self.capacity() - self.len()
    }

    /// Whether the ring holds no items.
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Whether every slot holds an item.
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Appends `value` at the head.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the ring is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u64>::with_capacity(1).unwrap();
    /// for i in 0..ring.capacity() as u64 {
    ///     ring.push(i).unwrap();
    /// }
    /// assert_eq!(ring.push(7), Err(7));
    /// ```
    pub fn push(&mut self, value: T) -> Result<(), T> {
        if self.is_full() {
            return Err(value);
        }
        self.mirror.settle();
        let slot = self.mirror.window(self.head, 1);
        // SAFETY: the ring is not full, so the slot at `head` is free, and `&mut self` keeps
        // every view of the ring away from it.
        unsafe { slot.write(value) };
        // SAFETY: as above; the slot was just initialised.
        unsafe { self.mirror.written(self.head, 1) };
        self.head = self.mirror.add(self.head, 1);
        Ok(())
    }

    /// Removes and returns the oldest item, or `None` if the ring is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<String>::with_capacity(8).unwrap();
    /// ring.push("a".to_string()).unwrap();
    /// assert_eq!(ring.pop().as_deref(), Some("a"));
    /// assert_eq!(ring.pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        self.mirror.settle();
        let slot = self.mirror.window(self.tail, 1);
        self.tail = self.mirror.add(self.tail, 1);
        // SAFETY: the ring was not empty, so the slot held the oldest item; moving the tail
        // past it first means it is read out exactly once.
        Some(unsafe { slot.read() })
    }

    /// Appends `value`, evicting and returning the oldest item if the ring is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u32>::with_capacity(1).unwrap();
    /// for i in 0..ring.capacity() as u32 {
    ///     assert_eq!(ring.push_overwrite(i), None);
    /// }
    /// assert_eq!(ring.push_overwrite(99), Some(0));
    /// assert_eq!(ring.readable_slice().last(), Some(&99));
    /// ```
    pub fn push_overwrite(&mut self, value: T) -> Option<T> {
        let evicted = if self.is_full() { self.pop() } else { None };
        if self.push(value).is_err() {
            unreachable!("a slot was freed just above");
        }
        evicted
    }

    /// Every item, oldest first, as one slice, even when the items wrap the physical end.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<i16>::with_capacity(16).unwrap();
    /// ring.push_slice(&[1, 2, 3]);
    /// assert_eq!(ring.readable_slice().iter().sum::<i16>(), 6);
    /// ```
    pub fn readable_slice(&self) -> &[T] {
        self.mirror.settle();
        let len = self.len();
        let start = self.mirror.window(self.tail, len);
        // SAFETY: the `len` slots from the tail hold initialised items; `len <= capacity`, so
        // no slot appears twice; `&self` keeps every write away while the slice lives.
        unsafe { std::slice::from_raw_parts(start, len) }
    }

    /// Every item, oldest first, as one mutable slice.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<f32>::with_capacity(1024).unwrap();
    /// ring.push_slice(&[1.0, 2.0]);
    /// ring.readable_slice_mut().iter_mut().for_each(|x| *x *= 0.5);
    /// assert_eq!(ring.readable_slice(), &[0.5, 1.0]);
    /// ```
    pub fn readable_slice_mut(&mut self) -> &mut [T] {
        self.mirror.settle();
        let len = self.len();
        let start = self.mirror.window(self.tail, len);
        self.mirror.lend(self.tail, len);
        // SAFETY: as in `readable_slice`, and `&mut self` makes this the only view.
        unsafe { std::slice::from_raw_parts_mut(start, len) }
    }

    /// Lends every free slot, as one contiguous chunk, to be written in place.
    ///
    /// See [`WriteChunk`] for how the written slots are committed.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u16>::with_capacity(8).unwrap();
    /// let cap = ring.capacity();
    /// let chunk = ring.write_chunk();
    /// assert_eq!(chunk.len(), cap);
    /// assert_eq!(chunk.fill_from_iter([1, 2, 3]), 3);
    /// assert_eq!(ring.len(), 3);
    /// ```
    pub fn write_chunk(&mut self) -> WriteChunk<'_, T> {
        self.mirror.settle();
        let free = self.vacant_len();
        WriteChunk::new(&self.mirror, &mut self.head, free)
    }

    /// Drops the `n` oldest items.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`; the ring is left unchanged. If an item's `Drop` panics, the `n`
    /// items have still left the ring and every other one of them has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u8>::with_capacity(64).unwrap();
    /// ring.push_slice(b"header:body");
    /// ring.advance_tail(7);
    /// assert_eq!(ring.readable_slice(), b"body");
    /// ```
    #[track_caller]
    pub fn advance_tail(&mut self, n: usize) {
        let len = self.len();
        if n > len {
            advance_out_of_bounds(n, len);
        }
        self.mirror.settle();
        let start = self.mirror.window(self.tail, n);
        self.tail = self.mirror.add(self.tail, n);
        // SAFETY: the `n` slots held the oldest items and have just left the ring, so they
        // are dropped exactly once; `drop_in_place` on a slice keeps dropping the others if
        // one of them panics.
        unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(start, n)) };
    }

    /// Drops every item.
    pub fn clear(&mut self) {
        self.advance_tail(self.len());
    }

    /// An iterator over the items, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.readable_slice().iter()
    }

    /// An iterator over mutable references to the items, oldest first.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.readable_slice_mut().iter_mut()
    }
}

impl<T: Copy, const N: usize> PicoRing<T, N> {
    /// Copies as many items of `data` as fit, with one copy even across the physical end,
    /// and returns how many were copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
    /// let cap = ring.capacity();
    /// assert_eq!(ring.push_slice(&vec![1; cap + 10]), cap);
    /// assert_eq!(ring.push_slice(&[2]), 0);
    /// ```
    pub fn push_slice(&mut self, data: &[T]) -> usize {
        self.write_chunk().copy_from_slice(data)
    }
}

impl<T, const N: usize> Drop for PicoRing<T, N> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for PicoRing<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Pushes every item, evicting the oldest ones when the ring is full, as
/// [`PicoRing::push_overwrite()`] does: the ring ends up holding the newest items.
///
/// # Examples
///
/// ```
/// use picoring::PicoRing;
///
/// let mut ring = PicoRing::<u64>::with_capacity(512).unwrap();
/// let cap = ring.capacity() as u64;
/// ring.extend(0..cap + 3);
/// assert_eq!(ring.readable_slice()[0], 3);
/// ```
impl<T, const N: usize> Extend<T> for PicoRing<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            drop(self.push_overwrite(item));
        }
    }
}

/// Copies every item, evicting the oldest ones when the ring is full.
impl<'a, T: Copy + 'a, const N: usize> Extend<&'a T> for PicoRing<T, N> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a PicoRing<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a mut PicoRing<T, N> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T, const N: usize> IntoIterator for PicoRing<T, N> {
    type Item = T;
    type IntoIter = IntoIter<T, N>;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter { ring: self }
    }
}

/// An iterator that moves the items out of a [`PicoRing`], oldest first.
///
/// Made by [`PicoRing::into_iter()`]; the items it did not yield are dropped with it.
pub struct IntoIter<T, const N: usize = 0> {
    ring: PicoRing<T, N>,
}

impl<T, const N: usize> Iterator for IntoIter<T, N> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.ring.pop()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.ring.len();
        (len, Some(len))
    }
}

impl<T, const N: usize> ExactSizeIterator for IntoIter<T, N> {}
impl<T, const N: usize> FusedIterator for IntoIter<T, N> {}

impl<T: fmt::Debug, const N: usize> fmt::Debug for IntoIter<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.ring).finish()
    }
}

#[cold]
#[track_caller]
fn advance_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot advance the tail by {n} items: the ring holds {len}")
}
