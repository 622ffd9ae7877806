//! [`PicoQueue`]: a reserve / commit queue whose contents are always one slice.

use std::fmt;
use std::mem::MaybeUninit;
use std::ops::{Index, IndexMut};

use bytemuck::Pod;

use crate::{Error, IntoIter, PicoRing};

/// A fixed-capacity FIFO queue that is written in place: reserve free slots, fill them,
/// commit them.
///
/// The queue is a [`PicoRing`] with a reservation API on top. Its items are always one
/// contiguous slice ([`peek()`]), even when they wrap around the physical end of the buffer,
/// so `queue[i]` is one bounds check and one load, and its free slots are one contiguous
/// slice too ([`reserve()`]).
///
/// # Reservations
///
/// [`reserve(n)`] lends the first `n` free slots as `&mut [T]` (for `T: Pod`, where every bit
/// pattern is a valid value, so stale slots can be exposed) and [`reserve_uninit(n)`] as
/// `&mut [MaybeUninit<T>]` (for any `T`). [`commit(m)`] then publishes the first `m <= n` of
/// them as the newest items, in O(1); [`commit_uninit(m)`] does the same after
/// `reserve_uninit`, on the caller's word that the slots were written.
///
/// Only the last reservation counts: a new `reserve` replaces the previous one, and a
/// reserve that fails (returns `None`) cancels it. Every other call that changes the
/// contents (`commit`, `try_push`, `try_pop`, `push_slice`, `release`, `clear`) ends the
/// reservation, so committing afterwards panics rather than publish slots nobody wrote.
///
/// [`peek()`]: PicoQueue::peek
/// [`reserve()`]: PicoQueue::reserve
/// [`reserve(n)`]: PicoQueue::reserve
/// [`reserve_uninit(n)`]: PicoQueue::reserve_uninit
/// [`commit(m)`]: PicoQueue::commit
/// [`commit_uninit(m)`]: PicoQueue::commit_uninit
///
/// # Examples
///
/// ```
/// # #![allow(unused_variables, unused_mut)] // the seed's snippet, as written
/// use picoring::PicoQueue;
/// // Static Capacity (Compile-time allocation)
/// let mut queue = PicoQueue::<f32, 4096>::new_static().unwrap();
/// // Dynamic Capacity
/// let mut queue = PicoQueue::<f32>::new(8192).unwrap();
/// // --- PRODUCER: Reservation API ---
/// if let Some(chunk) = queue.reserve(128) {
///     // Write directly into the mirrored virtual memory
///     chunk.fill(1.0);
///     queue.commit(128); // Data is now live
/// }
/// // --- CONSUMER: Read & Indexing ---
/// assert_eq!(queue[0], 1.0); // O(1) random access to queued data
/// for val in &queue {
///     // Logic here...
/// }
/// // Release processed data
/// queue.release(64);
/// ```
///
/// ```
/// use picoring::PicoQueue;
///
/// let mut queue = PicoQueue::<u32>::new(1024).unwrap();
///
/// // Write directly into reserved memory
/// if let Some(buf) = queue.reserve(2) {
///     buf[0] = 10;
///     buf[1] = 20;
///     queue.commit(2);
/// }
///
/// // Read without copying
/// let data = queue.peek();
/// queue.release(data.len());
/// ```
///
/// A reservation borrows the queue, so it cannot outlive a commit:
///
/// ```compile_fail,E0499
/// let mut queue = picoring::PicoQueue::<u8>::new(16).unwrap();
/// let buf = queue.reserve(4).unwrap();
/// queue.commit(4); // error: `buf` still borrows the queue
/// buf[0] = 1;
/// ```
pub struct PicoQueue<T, const N: usize = 0> {
    ring: PicoRing<T, N>,
    /// Slots lent by the last reservation; 0 when there is none.
    reserved: usize,
    /// Whether the last reservation came from `reserve`, whose slots always hold values.
    reserved_init: bool,
    /// Whether a free slot may hold uninitialised bytes: true for a new queue (the heap
    /// backend's memory, or a reused mapping, may be uninitialised) and after
    /// `reserve_uninit`, through which any bytes can be written. `reserve` zeroes the free
    /// slots once before it lends them as `&mut [T]`.
    free_uninit: bool,
}

impl<T> PicoQueue<T> {
    /// Creates an empty queue with room for at least `capacity` items.
    ///
    /// The capacity is rounded up as for [`PicoRing::with_capacity()`];
    /// [`capacity()`](PicoQueue::capacity) reports the result.
    ///
    /// # Errors
    ///
    /// As [`PicoRing::with_capacity()`]: [`Error::ZeroCapacity`] for 0,
    /// [`Error::CapacityOverflow`], [`Error::AlignmentTooLarge`] or [`Error::Map`].
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let queue = PicoQueue::<u64>::new(1000).unwrap();
    /// assert!(queue.capacity() >= 1000);
    /// assert!(PicoQueue::<u64>::new(0).is_err());
    /// ```
    pub fn new(capacity: usize) -> Result<Self, Error> {
        Ok(PicoQueue::from_ring(PicoRing::with_capacity(capacity)?))
    }
}

impl<T, const N: usize> PicoQueue<T, N> {
    /// Creates an empty queue with room for at least `N` items.
    ///
    /// `N` must not be 0: `PicoQueue::<T>::new_static()` does not compile; use
    /// [`PicoQueue::new()`] for a capacity chosen at run time.
    ///
    /// # Errors
    ///
    /// As [`PicoQueue::new()`].
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let queue = PicoQueue::<f32, 4096>::new_static().unwrap();
    /// assert!(queue.capacity() >= 4096);
    /// ```
    ///
    /// ```compile_fail,E0080
    /// let queue = picoring::PicoQueue::<u8>::new_static(); // N = 0
    /// ```
    pub fn new_static() -> Result<Self, Error> {
        const {
            assert!(
                N > 0,
                "PicoQueue::new_static() needs a capacity N > 0; use new for run-time sizes"
            )
        };
        Ok(PicoQueue::from_ring(PicoRing::new()?))
    }

    fn from_ring(ring: PicoRing<T, N>) -> Self {
        PicoQueue {
            ring,
            reserved: 0,
            reserved_init: false,
            free_uninit: true,
        }
    }

    /// The number of items the queue can hold: the requested capacity, rounded up.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// The number of items in the queue.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// The number of free slots: `capacity() - len()`.
    pub fn vacant_len(&self) -> usize {
        self.ring.vacant_len()
    }

    /// Whether the queue holds no items.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether every slot holds an item.
    pub fn is_full(&self) -> bool {
        self.ring.is_full()
    }

    /// Lends the first `n` free slots, as one slice, to be written and then published with
    /// [`commit_uninit()`](PicoQueue::commit_uninit). Returns `None` if fewer than `n`
    /// slots are free.
    ///
    /// This replaces the previous reservation, and a `None` cancels it. Nothing written into
    /// the slots is dropped by the queue unless it is committed.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<String>::new(16).unwrap();
    /// let slots = queue.reserve_uninit(2).unwrap();
    /// slots[0].write("a".to_string());
    /// slots[1].write("b".to_string());
    /// // SAFETY: both reserved slots were just written.
    /// unsafe { queue.commit_uninit(2) };
    /// assert_eq!(queue.peek(), ["a", "b"]);
    /// assert!(queue.reserve_uninit(queue.capacity()).is_none());
    /// ```
    pub fn reserve_uninit(&mut self, n: usize) -> Option<&mut [MaybeUninit<T>]> {
        let chunk = self.ring.write_chunk();
        if n > chunk.len() {
            self.reserved = 0;
            return None;
        }
        self.reserved = n;
        self.reserved_init = false;
        self.free_uninit |= n > 0;
        Some(&mut chunk.into_uninit_slice()[..n])
    }

    /// Publishes the first `n` slots of the last reservation as the newest items.
    ///
    /// # Panics
    ///
    /// If `n` is larger than the last reservation, or nothing is reserved (the reservation
    /// ends with every call that changes the contents); the queue is left unchanged.
    ///
    /// # Safety
    ///
    /// The first `n` slots of the reservation hold initialised values (written through the
    /// slice that [`reserve_uninit()`](PicoQueue::reserve_uninit) returned, or valid
    /// values already, after [`reserve()`](PicoQueue::reserve)).
    #[track_caller]
    pub unsafe fn commit_uninit(&mut self, n: usize) {
        if n > self.reserved {
            commit_out_of_bounds(n, self.reserved, "");
        }
        // SAFETY: `n <= reserved`, and the caller vouches for the values.
        unsafe { self.commit_unchecked(n) };
    }

    /// Publishes `n` reserved free slots; ends the reservation.
    ///
    /// # Safety
    ///
    /// `n <= reserved`, and the first `n` free slots hold initialised values.
    unsafe fn commit_unchecked(&mut self, n: usize) {
        debug_assert!(n <= self.reserved);
        self.reserved = 0;
        // SAFETY: the reservation is still valid (every call that fills free slots ends it),
        // so `n` free slots follow the head, and they hold values (see the caller).
        unsafe { self.ring.write_chunk().commit(n) };
    }

    /// Every item, oldest first, as one slice, even when the items wrap the physical end.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<u8>::new(4096).unwrap();
    /// queue.push_slice(b"abc");
    /// assert_eq!(queue.peek(), b"abc");
    /// ```
    pub fn peek(&self) -> &[T] {
        self.ring.readable_slice()
    }

    /// Every item, oldest first, as one mutable slice.
    pub fn peek_mut(&mut self) -> &mut [T] {
        self.ring.readable_slice_mut()
    }

    /// Drops the `n` oldest items.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`; the queue is left unchanged. If an item's `Drop` panics, the `n`
    /// items have still left the queue and every other one of them has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<u16>::new(64).unwrap();
    /// queue.push_slice(&[1, 2, 3]);
    /// queue.release(2);
    /// assert_eq!(queue.peek(), &[3]);
    /// ```
    #[track_caller]
    pub fn release(&mut self, n: usize) {
        let len = self.len();
        if n > len {
            release_out_of_bounds(n, len);
        }
        self.reserved = 0;
        self.ring.advance_tail(n);
    }

    /// Drops every item.
    pub fn clear(&mut self) {
        self.release(self.len());
    }

    /// Appends `value` as the newest item.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<char>::new(1).unwrap();
    /// while queue.try_push('x').is_ok() {}
    /// assert_eq!(queue.len(), queue.capacity());
    /// assert_eq!(queue.try_push('y'), Err('y'));
    /// ```
    pub fn try_push(&mut self, value: T) -> Result<(), T> {
        self.reserved = 0;
        self.ring.push(value)
    }

    /// Removes and returns the oldest item, or `None` if the queue is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<Box<u8>>::new(8).unwrap();
    /// queue.try_push(Box::new(1)).unwrap();
    /// assert_eq!(queue.try_pop(), Some(Box::new(1)));
    /// assert_eq!(queue.try_pop(), None);
    /// ```
    pub fn try_pop(&mut self) -> Option<T> {
        self.reserved = 0;
        self.ring.pop()
    }

    /// A reference to the item at `index` (0 is the oldest), or `None` if out of range.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.peek().get(index)
    }

    /// A mutable reference to the item at `index`, or `None` if out of range.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.peek_mut().get_mut(index)
    }

    /// An iterator over the items, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.peek().iter()
    }

    /// An iterator over mutable references to the items, oldest first.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.peek_mut().iter_mut()
    }
}

impl<T: Pod, const N: usize> PicoQueue<T, N> {
    /// Lends the first `n` free slots, as one slice, to be written and then published with
    /// [`commit()`](PicoQueue::commit). Returns `None` if fewer than `n` slots are free.
    ///
    /// The slots hold stale values (zeros, or items released earlier), which is why `T`
    /// must be [`Pod`]: every bit pattern is a valid `T`. The first reservation after
    /// [`reserve_uninit()`](PicoQueue::reserve_uninit), and the first of a new queue, zero
    /// every free slot once.
    ///
    /// This replaces the previous reservation, and a `None` cancels it.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<f64>::new(512).unwrap();
    /// let buf = queue.reserve(3).unwrap();
    /// buf.copy_from_slice(&[0.5, 1.5, 2.5]);
    /// queue.commit(2); // the third slot stays free
    /// assert_eq!(queue.peek(), &[0.5, 1.5]);
    /// assert!(queue.reserve(queue.capacity()).is_none());
    /// ```
    pub fn reserve(&mut self, n: usize) -> Option<&mut [T]> {
        let mut chunk = self.ring.write_chunk();
        if n > chunk.len() {
            self.reserved = 0;
            return None;
        }
        if self.free_uninit {
            chunk.zero();
            self.free_uninit = false;
        }
        self.reserved = n;
        self.reserved_init = true;
        let slots: *mut [MaybeUninit<T>] = &mut chunk.into_uninit_slice()[..n];
        // SAFETY: every free slot holds initialised bytes (zeroed above, or values of `T`
        // written since then, whose twins `commit` brought up to date), every bit pattern is
        // a valid `T`, and `MaybeUninit<T>` has the layout of `T`. The slice keeps the
        // queue's mutable borrow.
        Some(unsafe { &mut *(slots as *mut [T]) })
    }

    /// Publishes the first `n` slots of the last [`reserve()`](PicoQueue::reserve) as the
    /// newest items, in O(1).
    ///
    /// # Panics
    ///
    /// If `n` is larger than the last reservation, if nothing is reserved (the reservation
    /// ends with every call that changes the contents), or if the last reservation came from
    /// [`reserve_uninit()`](PicoQueue::reserve_uninit), whose slots need the unsafe
    /// [`commit_uninit()`](PicoQueue::commit_uninit). The queue is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<u8>::new(64).unwrap();
    /// queue.reserve(3).unwrap().copy_from_slice(b"abc");
    /// queue.commit(3);
    /// assert_eq!(queue.peek(), b"abc");
    /// ```
    ///
    /// ```should_panic
    /// let mut queue = picoring::PicoQueue::<u8>::new(64).unwrap();
    /// queue.reserve(3);
    /// queue.commit(5);
    /// ```
    #[track_caller]
    pub fn commit(&mut self, n: usize) {
        if !self.reserved_init && n > 0 {
            commit_out_of_bounds(n, 0, " with `reserve` (use `commit_uninit`)");
        }
        if n > self.reserved {
            commit_out_of_bounds(n, self.reserved, "");
        }
        // SAFETY: `n <= reserved`, and the slots of a `reserve` always hold values of `T`:
        // stale ones or zeros, or what the caller wrote through the `&mut [T]`.
        unsafe { self.commit_unchecked(n) };
    }
}

impl<T: Copy, const N: usize> PicoQueue<T, N> {
    /// Copies as many items of `data` as fit, with one copy even across the physical end,
    /// and returns how many were copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoQueue;
    ///
    /// let mut queue = PicoQueue::<u8>::new(4096).unwrap();
    /// let cap = queue.capacity();
    /// assert_eq!(queue.push_slice(&vec![1; cap + 1]), cap);
    /// ```
    pub fn push_slice(&mut self, data: &[T]) -> usize {
        self.reserved = 0;
        self.ring.push_slice(data)
    }
}

impl<T, const N: usize> Index<usize> for PicoQueue<T, N> {
    type Output = T;

    /// The item at `index`, 0 being the oldest.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        let items = self.peek();
        match items.get(index) {
            Some(item) => item,
            None => index_out_of_bounds(index, items.len()),
        }
    }
}

impl<T, const N: usize> IndexMut<usize> for PicoQueue<T, N> {
    /// The item at `index`, 0 being the oldest.
    ///
    /// # Panics
    ///
    /// If `index >= self.len()`.
    #[track_caller]
    fn index_mut(&mut self, index: usize) -> &mut T {
        let items = self.peek_mut();
        let len = items.len();
        match items.get_mut(index) {
            Some(item) => item,
            None => index_out_of_bounds(index, len),
        }
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for PicoQueue<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a PicoQueue<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a mut PicoQueue<T, N> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T, const N: usize> IntoIterator for PicoQueue<T, N> {
    type Item = T;
    type IntoIter = IntoIter<T, N>;

    /// Moves the items out, oldest first.
    fn into_iter(self) -> Self::IntoIter {
        self.ring.into_iter()
    }
}

#[cold]
#[track_caller]
fn commit_out_of_bounds(n: usize, reserved: usize, how: &str) -> ! {
    panic!("cannot commit {n} slots: {reserved} were reserved{how}")
}

#[cold]
#[track_caller]
fn release_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot release {n} items: the queue holds {len}")
}

#[cold]
#[track_caller]
fn index_out_of_bounds(index: usize, len: usize) -> ! {
    panic!("index {index} is out of range for a queue of {len} items")
}
