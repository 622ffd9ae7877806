//! Ring buffers on mirrored virtual memory: every live region is one contiguous slice.
//!
//! A ring's memory is mapped twice, back to back. Slot `i` and slot `i + capacity` are the
//! same physical memory, so the items of a ring, even when they wrap around its physical
//! end, are one `&[T]`, and its free slots are one `&mut [MaybeUninit<T>]`:
//!
//! ```text
//!                 physical memory: capacity slots
//!               +---+---+---+---+---+---+---+---+
//!               | E | F | . | . | . | A | B | C |        tail = 5, len = 6
//!               +---+---+---+---+---+---+---+---+
//!                 \_____________________________\__________________
//!                  \                             \                  \
//! virtual memory:  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//!                  | E | F | . | . | . | A | B | C | E | F | . | . | . | A | B | C |
//!                  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
//!                  first copy            [=====================]   second copy
//!                                        readable_slice(): A B C E F as one &[T]
//! ```
//!
//! | type | what it is |
//! |---|---|
//! | [`PicoRing`] | a single-owner FIFO ring: `push`, `pop`, `push_slice`, `readable_slice` |
//! | [`pipe`] | a byte pipe for vectored and async I/O: `Buffer` split into a `Producer` that fills it from an input and a `Consumer` that drains it to an output |
//! | [`WriteChunk`] | the free slots of a ring, lent out to be written in place |
//! | [`PicoQueue`] | a reserve / commit queue: free slots lent as one slice, `queue[i]` in O(1) |
//! | [`PicoByteStream`] | a byte buffer with `Read`, `Write`, `BufRead` (and `bytes::{Buf, BufMut}`) |
//! | [`PicoList`] | a chunked list that never moves an element: no realloc stalls at GB scale |
//! | [`PicoSPSC`], [`create_spsc`] | a wait-free queue between two threads, split into a [`spsc::Producer`] and a [`spsc::Consumer`], with blocking and async waits |
//! | [`PushTimeoutError`], [`PopTimeoutError`] | why a timed wait ended without a transfer |
//! | [`PicoMPSC`], [`create_mpsc`] | a lock-free queue for many producer threads and one consumer, with batches as one slice |
//! | [`Error`] | why a ring could not be created |
//!
//! # Examples
//!
//! ```
//! use picoring::PicoRing;
//!
//! let mut ring = PicoRing::<u8>::with_capacity(4096).unwrap();
//! let cap = ring.capacity();
//!
//! // Move the tail close to the physical end, then write across it.
//! ring.push_slice(&vec![0; cap - 3]);
//! ring.advance_tail(cap - 3);
//! ring.push_slice(b"GET / HTTP/1.1\r\n");
//!
//! // The request is one slice although it wraps: parse it in place.
//! let line = ring.readable_slice();
//! assert!(line.starts_with(b"GET "));
//! ring.advance_tail(line.len());
//! ```
//!
//! # Platforms
//!
//! Linux and Android map an anonymous `memfd` twice; macOS and iOS use `mach_vm_remap`;
//! Windows uses `VirtualAlloc2` placeholders and `MapViewOfFile3`. Elsewhere, and under Miri,
//! a heap backend emulates the mirror by keeping the two copies equal.

#![doc(test(attr(deny(warnings))))]

mod chunk;
mod error;
pub mod list;
mod mirror;
pub mod mpsc;
mod os;
pub mod pipe;
mod queue;
mod ring;
pub mod spsc;
mod stream;
mod sync;
mod wait;

pub use chunk::WriteChunk;
pub use error::Error;
pub use list::PicoList;
pub use mirror::granularity;
pub use mpsc::{MpscConsumer, MpscProducer, PicoMPSC, create_mpsc};
pub use queue::PicoQueue;
pub use ring::{IntoIter, PicoRing};
pub use spsc::{PicoSPSC, create_spsc};
pub use stream::PicoByteStream;
pub use wait::{PopTimeoutError, PushTimeoutError};

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
