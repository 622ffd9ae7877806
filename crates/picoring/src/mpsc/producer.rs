//! [`MpscProducer`]: the cloneable writing half.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{Reservation, Shared};
use crate::sync::prim::{Arc, AtomicUsize, Ordering};
use crate::sync::{CachePadded, Key};
use crate::{PopTimeoutError, PushTimeoutError};

/// A writing handle of a [`PicoMPSC`](super::PicoMPSC).
///
/// Clone it for every producing thread, or share one by reference: it is [`Send`] and
/// [`Sync`] when `T` is `Send`, and every method takes `&self`. Producers never wait for one
/// another (see the [module docs](super)); items of one producer arrive in the order it
/// pushed them. A handle of its own is faster for a busy thread: each handle starts its
/// next claim where its last one ended, which is right as long as no other handle claimed
/// in between.
///
/// When the last producer handle is dropped, the consumer sees the queue as disconnected
/// once it has read everything.
pub struct MpscProducer<T> {
    pub(super) shared: Arc<Shared<T>>,
    /// Where this handle's last claim ended: its guess of where the next one starts (see
    /// `Shared::claim`). On a line of its own, so that producers on different CPUs do not
    /// write the same line with every push.
    next: Box<CachePadded<AtomicUsize>>,
}

// SAFETY: producers only move `T`s into the ring, for the consumer thread to take out; they
// never read or drop items, so `T: Send` suffices for sending a handle, as for a channel.
unsafe impl<T: Send> Send for MpscProducer<T> {}
// SAFETY: every method takes `&self` and claims its slots with a compare-and-swap, so
// several threads may push through one handle; they still only move `T`s in.
unsafe impl<T: Send> Sync for MpscProducer<T> {}

impl<T> MpscProducer<T> {
    /// A handle over `shared`, counted among the live producers.
    pub(super) fn new(shared: Arc<Shared<T>>) -> MpscProducer<T> {
        // Relaxed: counting up needs no order; see `Drop` for counting down.
        shared.rare.producers.fetch_add(1, Ordering::Relaxed);
        // Relaxed: a guess, see `Shared::claim`.
        let head = shared.claim.head.load(Ordering::Relaxed);
        MpscProducer {
            shared,
            next: Box::new(CachePadded::new(AtomicUsize::new(head))),
        }
    }

    /// The number of items the queue holds when full.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// The number of free slots, as of the consumer's latest published tail.
    ///
    /// Other producers may take slots and the consumer may free some at any time, so this
    /// is only a snapshot.
    pub fn free_len(&self) -> usize {
        let shared = &*self.shared;
        loop {
            let head = shared.claim.head.load(Ordering::Relaxed);
            // Acquire: pairs with the consumer's Release store of `tail`.
            let tail = shared.tail.load(Ordering::Acquire);
            if let Some(len) = shared.len(tail, head) {
                return shared.capacity() - len;
            }
        }
    }

    /// Whether the consumer is gone: nothing pushed from now on will be read.
    pub fn is_disconnected(&self) -> bool {
        self.shared.rare.consumer_gone.load(Ordering::Acquire)
    }

    /// Appends `value`, or gives it back if the queue is full.
    ///
    /// # Errors
    ///
    /// `Err(value)` when every slot is claimed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, _consumer) = picoring::create_mpsc::<u64>(1).unwrap();
    /// let cap = producer.capacity() as u64;
    /// for i in 0..cap {
    ///     producer.push(i).unwrap();
    /// }
    /// assert_eq!(producer.push(cap), Err(cap));
    /// ```
    #[inline]
    pub fn push(&self, value: T) -> Result<(), T> {
        let Some((head, _)) = self.shared.claim(&self.next, 1, 1) else {
            return Err(value);
        };
        // SAFETY: the slot at `head` was just claimed.
        unsafe { self.shared.write_one(head, value) };
        Ok(())
    }

    /// Claims `n` contiguous slots to be written in place, or returns `None` if fewer than
    /// `n` are free (always, if `n` exceeds the capacity).
    ///
    /// The slots are one `&mut [MaybeUninit<T>]`, even across the physical end of the ring.
    /// Nothing is published until [`Reservation::commit`]; a reservation dropped without
    /// committing becomes a hole that the consumer skips, so it never blocks the queue.
    /// While a reservation is alive, the consumer can read what was published before it,
    /// and other producers keep pushing after it (until the ring is full).
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = picoring::create_mpsc::<u32>(64).unwrap();
    /// let mut r = producer.reserve(3).unwrap();
    /// producer.push(99).unwrap(); // another push does not wait for the reservation
    /// for (i, slot) in r.as_mut_slice().iter_mut().enumerate() {
    ///     slot.write(i as u32);
    /// }
    /// assert!(consumer.readable_slice().is_empty()); // the reservation comes first
    /// // SAFETY: all three slots were written.
    /// unsafe { r.commit(3) };
    /// assert_eq!(consumer.readable_slice(), &[0, 1, 2, 99]);
    /// ```
    pub fn reserve(&self, n: usize) -> Option<Reservation<'_, T>> {
        if n == 0 {
            return Some(Reservation::new(self, 0, 0));
        }
        if n > self.capacity() {
            return None;
        }
        let (head, n) = self.shared.claim(&self.next, n, n)?;
        Some(Reservation::new(self, head, n))
    }

    /// Waits until a slot is free, then appends `value`.
    ///
    /// # Errors
    ///
    /// `Err(value)` if the consumer is gone (before or while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, mut consumer) = picoring::create_mpsc::<u32>(1).unwrap();
    /// let n = producer.capacity() as u32 * 4;
    /// let writers: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         let p = producer.clone();
    ///         std::thread::spawn(move || {
    ///             for i in 0..n {
    ///                 p.push_blocking(i).unwrap();
    ///             }
    ///         })
    ///     })
    ///     .collect();
    /// drop(producer);
    /// let mut count = 0;
    /// while consumer.pop_blocking().is_some() {
    ///     count += 1;
    /// }
    /// assert_eq!(count, 2 * n);
    /// # for w in writers { w.join().unwrap(); }
    /// ```
    pub fn push_blocking(&self, value: T) -> Result<(), T> {
        self.push_until(value, None)
            .map_err(PushTimeoutError::into_inner)
    }

    /// Waits at most `timeout` for a free slot, then appends `value`.
    ///
    /// # Errors
    ///
    /// [`PushTimeoutError::Timeout`] if the queue stayed full,
    /// [`PushTimeoutError::Disconnected`] if the consumer is gone; both hold `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use picoring::PushTimeoutError;
    ///
    /// let (producer, _consumer) = picoring::create_mpsc::<u8>(1).unwrap();
    /// while producer.push(0).is_ok() {}
    /// let err = producer.push_timeout(7, Duration::from_millis(1));
    /// assert_eq!(err, Err(PushTimeoutError::Timeout(7)));
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), PushTimeoutError<T>> {
        self.push_until(value, Some(Instant::now() + timeout))
    }

    fn push_until(&self, value: T, deadline: Option<Instant>) -> Result<(), PushTimeoutError<T>> {
        let mut value = Some(value);
        let done = self
            .shared
            .rare
            .writable
            .wait(self.shared.threads(), deadline, || {
                self.try_push(&mut value)
            });
        PopTimeoutError::from_wait(done)
            .map_err(|why| PushTimeoutError::holding(why, value.take().expect("kept")))
    }

    /// Pushes the value out of `value`: `Some(true)` once pushed, `Some(false)` if the
    /// consumer is gone (the value stays), `None` if the queue is full.
    fn try_push(&self, value: &mut Option<T>) -> Option<bool> {
        if self.is_disconnected() {
            return Some(false);
        }
        match self.push(value.take().expect("pushed once")) {
            Ok(()) => Some(true),
            Err(v) => {
                *value = Some(v);
                None
            }
        }
    }

    /// Appends `value` once a slot is free, without blocking the thread.
    ///
    /// The future resolves to `Err(value)` if the consumer is gone. Dropping it before it
    /// resolves drops `value` and pushes nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
    /// #         std::thread::yield_now();
    /// #     }
    /// # }
    /// let (producer, mut consumer) = picoring::create_mpsc::<u8>(16).unwrap();
    /// block_on(producer.push_async(7)).unwrap();
    /// assert_eq!(block_on(consumer.pop_async()), Some(7));
    /// ```
    pub fn push_async(&self, value: T) -> PushFuture<'_, T> {
        PushFuture {
            producer: self,
            value: Some(value),
            key: None,
        }
    }
}

impl<T: Copy> MpscProducer<T> {
    /// Claims as many contiguous slots as are free, up to `values.len()`, copies that many
    /// items of `values` with one copy, and publishes them. Returns the number copied.
    ///
    /// The items stay together: the consumer sees them as one run, never interleaved with
    /// another producer's.
    ///
    /// # Examples
    ///
    /// ```
    /// let (producer, consumer) = picoring::create_mpsc::<u8>(4096).unwrap();
    /// assert_eq!(producer.push_slice(b"hello"), 5);
    /// assert_eq!(consumer.readable_slice(), b"hello");
    /// ```
    #[inline]
    pub fn push_slice(&self, values: &[T]) -> usize {
        if values.is_empty() {
            return 0;
        }
        let want = values.len().min(self.capacity());
        let Some((pos, n)) = self.shared.claim(&self.next, 1, want) else {
            return 0;
        };
        let shared = &*self.shared;
        // SAFETY: the `n` slots from `pos` were just claimed (one window, `n <= capacity`):
        // nobody else writes them and the consumer does not read them before the stamp is
        // published; `values` is borrowed from elsewhere, so it cannot overlap them;
        // `T: Copy` needs no drop.
        unsafe { ptr::copy_nonoverlapping(values.as_ptr(), shared.window(pos, n), n) };
        // SAFETY: the window was just written and is not yet published.
        unsafe { shared.written(pos, n) };
        // SAFETY: claimed above, written, published once.
        unsafe { shared.publish(pos, n, false) };
        n
    }
}

impl<T> Clone for MpscProducer<T> {
    fn clone(&self) -> MpscProducer<T> {
        MpscProducer::new(Arc::clone(&self.shared))
    }
}

impl<T> Drop for MpscProducer<T> {
    fn drop(&mut self) {
        // Release: pairs with the consumer's Acquire load of the count; everything this
        // producer published is visible to a consumer that sees the count at 0.
        if self.shared.rare.producers.fetch_sub(1, Ordering::Release) == 1 {
            self.shared.rare.readable.notify();
        }
    }
}

impl<T> fmt::Debug for MpscProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MpscProducer")
            .field("capacity", &self.capacity())
            .field("free_len", &self.free_len())
            .field("is_disconnected", &self.is_disconnected())
            .finish()
    }
}

/// The future of [`MpscProducer::push_async`].
#[must_use = "futures do nothing unless polled"]
pub struct PushFuture<'a, T> {
    producer: &'a MpscProducer<T>,
    value: Option<T>,
    key: Option<Key>,
}

// The value is moved, never pinned.
impl<T> Unpin for PushFuture<'_, T> {}

impl<T> Future for PushFuture<'_, T> {
    type Output = Result<(), T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        let this = self.get_mut();
        let producer = this.producer;
        assert!(this.value.is_some(), "`PushFuture` polled after completion");
        let done = producer
            .shared
            .rare
            .writable
            .poll(cx, &mut this.key, || producer.try_push(&mut this.value));
        done.map(|pushed| {
            if pushed {
                Ok(())
            } else {
                Err(this.value.take().expect("kept"))
            }
        })
    }
}

impl<T> Drop for PushFuture<'_, T> {
    fn drop(&mut self) {
        self.producer.shared.rare.writable.cancel(&mut self.key);
    }
}

impl<T> fmt::Debug for PushFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushFuture")
            .field("done", &self.value.is_none())
            .finish()
    }
}
