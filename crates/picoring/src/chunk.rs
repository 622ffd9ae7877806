//! [`WriteChunk`]: free slots lent out for writing in place.

use std::fmt;
use std::mem::MaybeUninit;
use std::ptr;

use crate::mirror::Mirror;
use crate::sync::Event;
use crate::sync::prim::{AtomicUsize, Ordering};

/// Free slots of a ring, lent out to be written in place and then committed.
///
/// The slots are one contiguous run of `MaybeUninit<T>`, even where they wrap the physical
/// end of the ring. Values become part of the ring only when they are committed, with
/// [`commit()`](WriteChunk::commit), [`fill_from_iter()`](WriteChunk::fill_from_iter) or
/// [`copy_from_slice()`](WriteChunk::copy_from_slice). Dropping the chunk without committing
/// leaves the ring as it was; values written into the slots but not committed are forgotten,
/// not dropped.
///
/// # Examples
///
/// ```
/// use picoring::PicoRing;
///
/// let mut ring = PicoRing::<u32>::with_capacity(1024).unwrap();
/// let mut chunk = ring.write_chunk();
/// for (i, slot) in chunk.as_mut_slice()[..3].iter_mut().enumerate() {
///     slot.write(i as u32 * 10);
/// }
/// // SAFETY: the first three slots were just written.
/// unsafe { chunk.commit(3) };
/// assert_eq!(ring.readable_slice(), &[0, 10, 20]);
/// ```
///
/// Forgetting to use a chunk is a warning (an error in these docs):
///
/// ```compile_fail
/// let mut ring = picoring::PicoRing::<u8>::with_capacity(16).unwrap();
/// ring.write_chunk(); // error: unused `WriteChunk` that must be used
/// ```
#[must_use = "values written to a chunk are lost unless it is committed"]
pub struct WriteChunk<'a, T> {
    mirror: &'a Mirror<T>,
    head: &'a mut usize,
    len: usize,
    /// Where another thread learns of committed slots, for a concurrent ring.
    shared: Option<(&'a AtomicUsize, &'a Event)>,
}

impl<'a, T> WriteChunk<'a, T> {
    /// Lends the `len` free slots that follow `*head`.
    ///
    /// The caller holds the structure mutably for `'a`, and `len` slots after `*head` are free.
    pub(crate) fn new(mirror: &'a Mirror<T>, head: &'a mut usize, len: usize) -> Self {
        debug_assert!(len <= mirror.capacity());
        WriteChunk {
            mirror,
            head,
            len,
            shared: None,
        }
    }

    /// Like [`WriteChunk::new`], for a ring whose consumer is another thread: each commit
    /// also stores the new head in `shared` (Release) and notifies `readable`.
    pub(crate) fn shared(
        mirror: &'a Mirror<T>,
        head: &'a mut usize,
        len: usize,
        shared: &'a AtomicUsize,
        readable: &'a Event,
    ) -> Self {
        debug_assert!(len <= mirror.capacity());
        WriteChunk {
            mirror,
            head,
            len,
            shared: Some((shared, readable)),
        }
    }

    /// The number of slots in the chunk.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk has no slots (the ring is full).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slots of the chunk, contiguous even across the physical end of the ring.
    pub fn as_mut_slice(&mut self) -> &mut [MaybeUninit<T>] {
        let start = self
            .mirror
            .window(*self.head, self.len)
            .cast::<MaybeUninit<T>>();
        // SAFETY: the `len` slots are free and lent to this chunk alone, which borrows the
        // ring mutably; `MaybeUninit<T>` needs no initialisation. `len <= capacity`, so no
        // slot appears twice in the slice.
        unsafe { std::slice::from_raw_parts_mut(start, self.len) }
    }

    /// The slots of the chunk, for as long as the chunk's borrow of the ring lasts.
    ///
    /// Nothing is committed: the owner of the ring commits later, through a new chunk.
    pub(crate) fn into_uninit_slice(self) -> &'a mut [MaybeUninit<T>] {
        let start = self
            .mirror
            .window(*self.head, self.len)
            .cast::<MaybeUninit<T>>();
        // SAFETY: as in `as_mut_slice`; the chunk's mutable borrow of the ring, which lasts
        // for `'a`, passes to the slice.
        unsafe { std::slice::from_raw_parts_mut(start, self.len) }
    }

    /// Overwrites every slot of the chunk, in both copies, with zero bytes.
    pub(crate) fn zero(&mut self) {
        let start = self.mirror.window(*self.head, self.len);
        // SAFETY: the `len <= capacity` slots are free and lent to this chunk alone; they
        // hold no value, so overwriting them drops nothing.
        unsafe { start.write_bytes(0, self.len) };
        // SAFETY: the window was just written, and no reference into it is alive.
        unsafe { self.mirror.written(*self.head, self.len) };
    }

    /// Publishes the first `n` slots of the chunk as the newest items of the ring.
    ///
    /// # Panics
    ///
    /// If `n > self.len()`.
    ///
    /// # Safety
    ///
    /// The first `n` slots of the chunk must hold initialised values.
    #[track_caller]
    pub unsafe fn commit(mut self, n: usize) {
        if n > self.len {
            commit_out_of_bounds(n, self.len);
        }
        // SAFETY: the slots were lent to this chunk (nobody else sees them), `n <= len <=
        // capacity`, and the caller vouches that they are initialised.
        unsafe { self.publish(n) };
    }

    /// Writes the items of `iter` into the chunk, in order, until either runs out, and
    /// commits them. Returns the number committed.
    ///
    /// If the iterator panics, the items written before the panic are committed.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<String>::with_capacity(1).unwrap();
    /// let cap = ring.capacity();
    /// let n = ring.write_chunk().fill_from_iter((0..).map(|i| i.to_string()));
    /// assert_eq!(n, cap);
    /// assert_eq!(ring.pop().as_deref(), Some("0"));
    /// ```
    pub fn fill_from_iter<I: IntoIterator<Item = T>>(self, iter: I) -> usize {
        /// Commits what was written so far, also when the iterator unwinds.
        struct Filled<'c, 'a, T> {
            chunk: &'c mut WriteChunk<'a, T>,
            written: usize,
        }
        impl<T> Drop for Filled<'_, '_, T> {
            fn drop(&mut self) {
                // SAFETY: exactly `written` slots were initialised, in order, below.
                unsafe { self.chunk.publish(self.written) };
            }
        }

        let mut chunk = self;
        let start = chunk.mirror.window(*chunk.head, chunk.len);
        let len = chunk.len;
        let mut filled = Filled {
            chunk: &mut chunk,
            written: 0,
        };
        for item in iter.into_iter().take(len) {
            // SAFETY: `written < len`, and the slot is free and lent to this chunk.
            unsafe { start.add(filled.written).write(item) };
            filled.written += 1;
        }
        filled.written
    }

    /// Publishes slots `0..n` of the chunk and moves the head past them.
    ///
    /// # Safety
    ///
    /// `n <= len` and the first `n` slots are initialised.
    unsafe fn publish(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        // SAFETY: the window is lent to this chunk alone; see the caller for the rest.
        unsafe { self.mirror.written(*self.head, n) };
        *self.head = self.mirror.add(*self.head, n);
        self.len -= n;
        if let Some((shared, readable)) = self.shared {
            if n > 0 {
                shared.store(*self.head, Ordering::Release);
                readable.notify();
            }
        }
    }
}

impl<T: Copy> WriteChunk<'_, T> {
    /// Copies as many items of `src` as fit into the chunk, with one copy, and commits
    /// them. Returns the number copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use picoring::PicoRing;
    ///
    /// let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
    /// assert_eq!(ring.write_chunk().copy_from_slice(b"hello"), 5);
    /// assert_eq!(ring.readable_slice(), b"hello");
    /// ```
    pub fn copy_from_slice(mut self, src: &[T]) -> usize {
        let n = src.len().min(self.len);
        let dst = self.mirror.window(*self.head, n);
        // SAFETY: the `n` slots are free and lent to this chunk, so they cannot overlap
        // `src`, which the caller borrows from elsewhere; `T: Copy` needs no drop.
        unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst, n) };
        // SAFETY: the first `n` slots were just initialised.
        unsafe { self.publish(n) };
        n
    }
}

impl<T> fmt::Debug for WriteChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunk")
            .field("len", &self.len)
            .finish()
    }
}

#[cold]
#[track_caller]
fn commit_out_of_bounds(n: usize, len: usize) -> ! {
    panic!("cannot commit {n} slots: the chunk has {len}")
}
