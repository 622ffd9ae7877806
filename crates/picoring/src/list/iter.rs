//! The iterators of [`PicoList`]: a slice iterator per chunk, so the inner loop is a
//! slice's.

use std::fmt;
use std::iter::FusedIterator;
use std::ptr::NonNull;
use std::slice;

use super::{PicoList, Table};

/// An iterator over the elements of a [`PicoList`], made by [`PicoList::iter()`].
pub struct Iter<'a, T, const CHUNK: usize = 16384> {
    /// The rest of the chunk being walked from the front.
    front: slice::Iter<'a, T>,
    /// The full chunks between `front` and `back`.
    middle: slice::Iter<'a, NonNull<T>>,
    /// The rest of the chunk being walked from the back (at first, the partial last chunk).
    back: slice::Iter<'a, T>,
}

// SAFETY: the iterator hands out `&T` only, like `slice::Iter<T>`.
unsafe impl<T: Sync, const CHUNK: usize> Send for Iter<'_, T, CHUNK> {}
// SAFETY: as above.
unsafe impl<T: Sync, const CHUNK: usize> Sync for Iter<'_, T, CHUNK> {}

/// A full chunk as a slice.
///
/// # Safety
///
/// `chunk` holds `CHUNK` initialised elements, borrowed for `'a` (mutably for `&mut`).
unsafe fn full<'a, T, const CHUNK: usize>(chunk: NonNull<T>) -> &'a [T] {
    // SAFETY: forwarded from the caller.
    unsafe { slice::from_raw_parts(chunk.as_ptr(), CHUNK) }
}

/// Splits `0..len` into the full chunks and the partial last one.
fn split<T, const CHUNK: usize>(table: &Table<T, CHUNK>, len: usize) -> (&[NonNull<T>], usize) {
    (&table.chunks[..len / CHUNK], len % CHUNK)
}

impl<'a, T, const CHUNK: usize> Iter<'a, T, CHUNK> {
    pub(super) fn new(list: &'a PicoList<T, CHUNK>) -> Self {
        let (full, rem) = split(&list.table, list.len);
        let back: &[T] = match rem {
            0 => &[],
            // SAFETY: the `rem` first elements of the chunk after the full ones are
            // initialised; the list is borrowed for `'a`.
            _ => unsafe { list.table.slice(list.len - rem, list.len) },
        };
        Iter {
            front: [].iter(),
            middle: full.iter(),
            back: back.iter(),
        }
    }
}

impl<'a, T, const CHUNK: usize> Iterator for Iter<'a, T, CHUNK> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        loop {
            if let Some(item) = self.front.next() {
                return Some(item);
            }
            match self.middle.next() {
                // SAFETY: a chunk of `middle` is full and borrowed for `'a`.
                Some(&chunk) => self.front = unsafe { full::<T, CHUNK>(chunk) }.iter(),
                None => return self.back.next(),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.len();
        (len, Some(len))
    }

    fn nth(&mut self, mut n: usize) -> Option<&'a T> {
        let in_front = self.front.len();
        if n < in_front {
            return self.front.nth(n);
        }
        n -= in_front;
        self.front = [].iter();
        let skip = (n / CHUNK).min(self.middle.len());
        if skip > 0 {
            self.middle.nth(skip - 1);
            n -= skip * CHUNK;
        }
        match self.middle.next() {
            Some(&chunk) => {
                // SAFETY: as in `next`.
                self.front = unsafe { full::<T, CHUNK>(chunk) }.iter();
                self.front.nth(n)
            }
            None => self.back.nth(n),
        }
    }

    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, mut f: F) -> B {
        let mut acc = self.front.fold(init, &mut f);
        for &chunk in self.middle {
            // SAFETY: as in `next`.
            acc = unsafe { full::<T, CHUNK>(chunk) }.iter().fold(acc, &mut f);
        }
        self.back.fold(acc, f)
    }
}

impl<'a, T, const CHUNK: usize> DoubleEndedIterator for Iter<'a, T, CHUNK> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a T> {
        loop {
            if let Some(item) = self.back.next_back() {
                return Some(item);
            }
            match self.middle.next_back() {
                // SAFETY: as in `next`.
                Some(&chunk) => self.back = unsafe { full::<T, CHUNK>(chunk) }.iter(),
                None => return self.front.next_back(),
            }
        }
    }
}

impl<T, const CHUNK: usize> ExactSizeIterator for Iter<'_, T, CHUNK> {
    fn len(&self) -> usize {
        self.front.len() + self.middle.len() * CHUNK + self.back.len()
    }
}

impl<T, const CHUNK: usize> FusedIterator for Iter<'_, T, CHUNK> {}

impl<T, const CHUNK: usize> Clone for Iter<'_, T, CHUNK> {
    fn clone(&self) -> Self {
        Iter {
            front: self.front.clone(),
            middle: self.middle.clone(),
            back: self.back.clone(),
        }
    }
}

impl<T: fmt::Debug, const CHUNK: usize> fmt::Debug for Iter<'_, T, CHUNK> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// An iterator over mutable references to the elements of a [`PicoList`], made by
/// [`PicoList::iter_mut()`].
pub struct IterMut<'a, T, const CHUNK: usize = 16384> {
    front: slice::IterMut<'a, T>,
    middle: slice::Iter<'a, NonNull<T>>,
    back: slice::IterMut<'a, T>,
}

// SAFETY: the iterator hands out `&mut T`, like `slice::IterMut<T>`.
unsafe impl<T: Send, const CHUNK: usize> Send for IterMut<'_, T, CHUNK> {}
// SAFETY: shared access to the iterator gives no access to the elements.
unsafe impl<T: Sync, const CHUNK: usize> Sync for IterMut<'_, T, CHUNK> {}

/// A full chunk as a mutable slice.
///
/// # Safety
///
/// As [`full`], and no other reference to the chunk is alive for `'a`.
unsafe fn full_mut<'a, T, const CHUNK: usize>(chunk: NonNull<T>) -> &'a mut [T] {
    // SAFETY: forwarded from the caller.
    unsafe { slice::from_raw_parts_mut(chunk.as_ptr(), CHUNK) }
}

impl<'a, T, const CHUNK: usize> IterMut<'a, T, CHUNK> {
    pub(super) fn new(list: &'a mut PicoList<T, CHUNK>) -> Self {
        let len = list.len;
        let table: &'a Table<T, CHUNK> = &list.table;
        let (full, rem) = split(table, len);
        let back: &mut [T] = match rem {
            0 => &mut [],
            // SAFETY: as in `Iter::new`; the list is borrowed mutably for `'a`, and this
            // chunk is not among the full ones.
            _ => unsafe { slice::from_raw_parts_mut(table.slot(len - rem), rem) },
        };
        IterMut {
            front: [].iter_mut(),
            middle: full.iter(),
            back: back.iter_mut(),
        }
    }
}

impl<'a, T, const CHUNK: usize> Iterator for IterMut<'a, T, CHUNK> {
    type Item = &'a mut T;

    #[inline]
    fn next(&mut self) -> Option<&'a mut T> {
        loop {
            if let Some(item) = self.front.next() {
                return Some(item);
            }
            match self.middle.next() {
                // SAFETY: a chunk of `middle` is full, yielded once, and the list is
                // borrowed mutably for `'a`.
                Some(&chunk) => self.front = unsafe { full_mut::<T, CHUNK>(chunk) }.iter_mut(),
                None => return self.back.next(),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.len();
        (len, Some(len))
    }

    fn nth(&mut self, mut n: usize) -> Option<&'a mut T> {
        let in_front = self.front.len();
        if n < in_front {
            return self.front.nth(n);
        }
        n -= in_front;
        self.front = [].iter_mut();
        let skip = (n / CHUNK).min(self.middle.len());
        if skip > 0 {
            self.middle.nth(skip - 1);
            n -= skip * CHUNK;
        }
        match self.middle.next() {
            Some(&chunk) => {
                // SAFETY: as in `next`.
                self.front = unsafe { full_mut::<T, CHUNK>(chunk) }.iter_mut();
                self.front.nth(n)
            }
            None => self.back.nth(n),
        }
    }

    fn fold<B, F: FnMut(B, &'a mut T) -> B>(self, init: B, mut f: F) -> B {
        let mut acc = self.front.fold(init, &mut f);
        for &chunk in self.middle {
            // SAFETY: as in `next`.
            acc = unsafe { full_mut::<T, CHUNK>(chunk) }
                .iter_mut()
                .fold(acc, &mut f);
        }
        self.back.fold(acc, f)
    }
}

impl<'a, T, const CHUNK: usize> DoubleEndedIterator for IterMut<'a, T, CHUNK> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a mut T> {
        loop {
            if let Some(item) = self.back.next_back() {
                return Some(item);
            }
            match self.middle.next_back() {
                // SAFETY: as in `next`.
                Some(&chunk) => self.back = unsafe { full_mut::<T, CHUNK>(chunk) }.iter_mut(),
                None => return self.front.next_back(),
            }
        }
    }
}

impl<T, const CHUNK: usize> ExactSizeIterator for IterMut<'_, T, CHUNK> {
    fn len(&self) -> usize {
        self.front.len() + self.middle.len() * CHUNK + self.back.len()
    }
}

impl<T, const CHUNK: usize> FusedIterator for IterMut<'_, T, CHUNK> {}

impl<T: fmt::Debug, const CHUNK: usize> fmt::Debug for IterMut<'_, T, CHUNK> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("len", &self.len()).finish()
    }
}

/// An iterator that moves the elements out of a [`PicoList`], made by
/// [`PicoList::into_iter()`]; the elements it did not yield are dropped with it.
pub struct IntoIter<T, const CHUNK: usize = 16384> {
    pub(super) table: Table<T, CHUNK>,
    /// Elements `front..back` are still owned by the iterator.
    pub(super) front: usize,
    pub(super) back: usize,
}

// SAFETY: the iterator owns its elements, like `vec::IntoIter<T>`.
unsafe impl<T: Send, const CHUNK: usize> Send for IntoIter<T, CHUNK> {}
// SAFETY: shared access gives no access to the elements.
unsafe impl<T: Sync, const CHUNK: usize> Sync for IntoIter<T, CHUNK> {}

impl<T, const CHUNK: usize> Iterator for IntoIter<T, CHUNK> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        // SAFETY: element `front - 1` was owned by the iterator and is read out once.
        Some(unsafe { self.table.slot(self.front - 1).read() })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.back - self.front;
        (len, Some(len))
    }
}

impl<T, const CHUNK: usize> DoubleEndedIterator for IntoIter<T, CHUNK> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        // SAFETY: element `back` was owned by the iterator and is read out once.
        Some(unsafe { self.table.slot(self.back).read() })
    }
}

impl<T, const CHUNK: usize> ExactSizeIterator for IntoIter<T, CHUNK> {}
impl<T, const CHUNK: usize> FusedIterator for IntoIter<T, CHUNK> {}

impl<T, const CHUNK: usize> Drop for IntoIter<T, CHUNK> {
    fn drop(&mut self) {
        let (front, back) = (self.front, self.back);
        self.front = back;
        // SAFETY: elements `front..back` were still owned by the iterator.
        unsafe { self.table.drop_range(front, back) };
    }
}

impl<T: fmt::Debug, const CHUNK: usize> fmt::Debug for IntoIter<T, CHUNK> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("len", &(self.back - self.front))
            .finish()
    }
}
