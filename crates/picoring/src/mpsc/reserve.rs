//! [`Reservation`]: claimed slots, written in place by one producer, then published.

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use super::{MpscProducer, Shared};

/// Slots claimed by [`MpscProducer::reserve`](super::MpscProducer::reserve), to be written
/// in place and then published.
///
/// The slots are one contiguous run of `MaybeUninit<T>`, even where they wrap the physical
/// end of the ring, and belong to this reservation alone: other producers claim and publish
/// after them without waiting. The consumer reads up to the reservation and no further until
/// it is finished:
///
/// * [`commit(n)`](Reservation::commit) (or [`fill_from_iter`](Reservation::fill_from_iter),
///   [`copy_from_slice`](Reservation::copy_from_slice)) publishes the first `n` slots as
///   items; the slots after them, if any, become a hole.
/// * Dropping the reservation publishes all of its slots as a *hole*: the consumer skips
///   them, drops nothing there, and hands them back to the producers. Values written into
///   the slots but not committed are forgotten, not dropped.
///
/// Forgetting a reservation (`mem::forget`) leaves its slots claimed for ever: the consumer
/// then stops in front of them, as it would for a producer that never runs again.
///
/// # Examples
///
/// ```
/// let (producer, consumer) = picoring::create_mpsc::<u64>(64).unwrap();
/// let given_up = producer.reserve(2).unwrap();
/// producer.push(7).unwrap();
/// assert!(consumer.readable_slice().is_empty()); // waiting for the reservation
/// drop(given_up); // a hole: skipped, nothing dropped
/// assert_eq!(consumer.readable_slice(), &[7]);
/// ```
///
/// Forgetting to use a reservation is a warning (an error in these docs):
///
/// ```compile_fail
/// let (producer, _consumer) = picoring::create_mpsc::<u8>(16).unwrap();
/// producer.reserve(1).unwrap(); // error: unused `Reservation` that must be used
/// ```
#[must_use = "a reservation publishes nothing unless it is committed; dropped, it is skipped"]
pub struct Reservation<'a, T> {
    /// Borrowed from the producer (not only its shared state), so that a reservation is
    /// `Send` only where a producer is: when `T: Send`.
    producer: &'a MpscProducer<T>,
    /// The position of the first slot.
    pos: usize,
    /// The number of slots still claimed by this reservation.
    len: usize,
}

impl<'a, T> Reservation<'a, T> {
    /// The reservation of the `len` slots at position `pos`, which the caller claimed.
    pub(super) fn new(producer: &'a MpscProducer<T>, pos: usize, len: usize) -> Reservation<'a, T> {
        debug_assert!(len <= producer.capacity());
        Reservation { producer, pos, len }
    }

    #[inline]
    fn shared(&self) -> &'a Shared<T> {
        &self.producer.shared
    }

    /// The number of slots reserved.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is reserved (a reservation of 0 slots).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The reserved slots, contiguous even across the physical end of the ring.
    pub fn as_mut_slice(&mut self) -> &mut [MaybeUninit<T>] {
        let start = self.shared().uninit(self.pos, self.len);
        // SAFETY: the `len` slots were claimed by this reservation alone, which is borrowed
        // mutably; nobody reads them before they are published. `MaybeUninit<T>` needs no
        // initialisation, and `len <= capacity`, so no slot appears twice in the slice.
        unsafe { std::slice::from_raw_parts_mut(start, self.len) }
    }

    /// Publishes the first `n` slots as the producer's next items; the other slots become
    /// a hole that the consumer skips.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`; the whole reservation then becomes a hole.
    ///
    /// # Safety
    ///
    /// The first `n` slots must hold initialised values.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
    /// let mut r = producer.reserve(4).unwrap();
    /// r.as_mut_slice()[0].write(b'h');
    /// r.as_mut_slice()[1].write(b'i');
    /// // SAFETY: the first two slots were written.
    /// unsafe { r.commit(2) };
    /// assert_eq!(consumer.readable_slice(), b"hi");
    /// consumer.advance_tail(2);
    /// assert_eq!(consumer.len(), 0); // the two unused slots were skipped
    /// ```
    #[track_caller]
    pub unsafe fn commit(mut self, n: usize) {
        if n > self.len {
            commit_out_of_bounds(n, self.len);
        }
        // SAFETY: `n <= len`, and the caller vouches that the first `n` slots are
        // initialised.
        unsafe { self.finish(n) };
    }

    /// Writes the items of `iter` into the reserved slots, in order, until either runs out,
    /// and commits them; unused slots become a hole. Returns the number committed.
    ///
    /// If the iterator panics, the items written before the panic are committed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<String>(16).unwrap();
    /// let n = producer.reserve(3).unwrap().fill_from_iter(["a", "b"].map(String::from));
    /// assert_eq!(n, 2);
    /// assert_eq!(consumer.pop().as_deref(), Some("a"));
    /// assert_eq!(consumer.pop().as_deref(), Some("b"));
    /// assert_eq!(consumer.pop(), None);
    /// ```
    pub fn fill_from_iter<I: IntoIterator<Item = T>>(self, iter: I) -> usize {
        /// Commits what was written so far, also when the iterator unwinds.
        struct Filled<'r, 'a, T> {
            reservation: &'r mut Reservation<'a, T>,
            written: usize,
        }
        impl<T> Drop for Filled<'_, '_, T> {
            fn drop(&mut self) {
                // SAFETY: exactly `written <= len` slots were initialised, in order, below.
                unsafe { self.reservation.finish(self.written) };
            }
        }

        let mut reservation = self;
        let start = reservation
            .shared()
            .window(reservation.pos, reservation.len);
        let len = reservation.len;
        let mut filled = Filled {
            reservation: &mut reservation,
            written: 0,
        };
        for item in iter.into_iter().take(len) {
            // SAFETY: `written < len`, and the slot was claimed by this reservation.
            unsafe { start.add(filled.written).write(item) };
            filled.written += 1;
        }
        filled.written
    }

    /// Publishes slots `0..n` as items and `n..len` as a hole, then gives up the claim.
    ///
    /// # Safety
    ///
    /// `n <= len` and the first `n` slots are initialised.
    unsafe fn finish(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        let (shared, pos, len) = (self.shared(), self.pos, self.len);
        self.len = 0;
        if len == 0 {
            return;
        }
        if n < len {
            shared.publish_quietly(pos.wrapping_add(n), len - n, true);
        }
        if n > 0 {
            // SAFETY: the window was claimed by this reservation and written (the caller);
            // it is not yet published.
            unsafe { shared.written(pos, n) };
            shared.publish_quietly(pos, n, false);
        }
        shared.rare.readable.notify();
    }
}

impl<T: Copy> Reservation<'_, T> {
    /// Copies as many items of `src` as fit into the reserved slots, with one copy, and
    /// commits them; unused slots become a hole. Returns the number copied.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = picoring::create_mpsc::<u8>(4096).unwrap();
    /// assert_eq!(producer.reserve(5).unwrap().copy_from_slice(b"hello"), 5);
    /// assert_eq!(consumer.readable_slice(), b"hello");
    /// ```
    pub fn copy_from_slice(mut self, src: &[T]) -> usize {
        let n = src.len().min(self.len);
        let dst = self.shared().window(self.pos, n);
        // SAFETY: the `n` slots were claimed by this reservation, so they cannot overlap
        // `src`, which the caller borrows from elsewhere; `T: Copy` needs no drop.
        unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst, n) };
        // SAFETY: the first `n` slots were just initialised.
        unsafe { self.finish(n) };
        n
    }
}

impl<T> Drop for Reservation<'_, T> {
    fn drop(&mut self) {
        // SAFETY: no slot is published as an item.
        unsafe { self.finish(0) };
    }
}

impl<T> fmt::Debug for Reservation<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("len", &self.len)
            .finish()
    }
}

#[cold]
#[track_caller]
fn commit_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot commit {n} slots: the reservation has {len}")
}
