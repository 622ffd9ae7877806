//! Element types of awkward sizes, built from a counter, shared by the model tests.

#![allow(dead_code, reason = "each test binary uses a part of these types")]

use std::fmt::Debug;
use std::mem::size_of;

/// An element built from a counter: `make(n) != make(m)` for `n != m` as far as its size
/// allows (a 1-byte element repeats every 256, a 3-byte one every 2^24).
pub(crate) trait Elem: Copy + PartialEq + Debug {
    fn make(n: u64) -> Self;
}

macro_rules! bytes_elem {
    ($name:ident, $size:literal, align $align:literal) => {
        #[repr(C, align($align))]
        #[derive(Clone, Copy, PartialEq, Debug)]
        pub(crate) struct $name(pub(crate) [u8; $size]);

        const _: () = assert!(size_of::<$name>() == $size);

        impl Elem for $name {
            fn make(n: u64) -> Self {
                // A memset, then the counter at the start (and, when there is room, its
                // complement at the end), so that a torn or misplaced copy is noticed.
                let mut bytes = [(n as u8) ^ 0xa5; $size];
                let head = n.to_le_bytes();
                let k = head.len().min($size);
                bytes[..k].copy_from_slice(&head[..k]);
                if $size >= 2 * head.len() {
                    let tail = (!n).rotate_left(17).to_le_bytes();
                    bytes[$size - tail.len()..].copy_from_slice(&tail);
                }
                $name(bytes)
            }
        }
    };
}

bytes_elem!(E1, 1, align 1);
bytes_elem!(E3, 3, align 1);
bytes_elem!(E5, 5, align 1);
bytes_elem!(E12, 12, align 4);
bytes_elem!(E24, 24, align 8);
bytes_elem!(E48, 48, align 16);
bytes_elem!(E100, 100, align 4);
// One element per page: `with_capacity(1)` gives a single slot, and every push crosses the
// physical end. (Aligned to 64 only, which is Miri's emulated granularity.)
bytes_elem!(E4096, 4096, align 64);
bytes_elem!(E4100, 4100, align 4);

/// A zero-sized element: no memory, capacity exactly as requested.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) struct Zst;

impl Elem for Zst {
    fn make(_: u64) -> Self {
        Zst
    }
}
