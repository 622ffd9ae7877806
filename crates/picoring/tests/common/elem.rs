//! Element types for the model tests: plain-old-data values of awkward sizes built from a
//! counter, a zero-sized value, and values that count their drops (and can be told to panic
//! in `Drop` or `Clone`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::mem::size_of;

/// A value made from a counter, whose `id()` reads the counter back as far as the value's
/// size allows (`key(n)` is what `make(n).id()` returns): a 1-byte element repeats every
/// 256, a 3-byte one every 2^24.
pub(crate) trait Elem: Sized + fmt::Debug {
    fn make(n: u64) -> Self;
    fn key(n: u64) -> u64;
    fn id(&self) -> u64;
}

/// The byte that fills the middle of the element made from `n`.
fn fill(n: u64) -> u8 {
    (n as u8) ^ 0xa5
}

/// The last 8 bytes of the element made from `n`, when it has room for them after the
/// counter.
fn tail(n: u64) -> [u8; 8] {
    (!n).rotate_left(17).to_le_bytes()
}

/// The bytes of the element made from `n`: a memset, then the counter at the start (and,
/// when there is room, its scrambled complement at the end), so that a torn or misplaced
/// copy is noticed.
fn make_bytes<const N: usize>(n: u64) -> [u8; N] {
    let mut bytes = [fill(n); N];
    let head = n.to_le_bytes();
    let k = head.len().min(N);
    bytes[..k].copy_from_slice(&head[..k]);
    if N >= 2 * head.len() {
        bytes[N - 8..].copy_from_slice(&tail(n));
    }
    bytes
}

/// The counter of an element made by [`make_bytes`], truncated to its size.
fn key_bytes<const N: usize>(n: u64) -> u64 {
    if N >= 8 {
        n
    } else {
        n & ((1u64 << (8 * N)) - 1)
    }
}

/// Reads the counter back from the start of `bytes`, checking the last byte against it.
fn id_bytes<const N: usize>(bytes: &[u8; N]) -> u64 {
    let mut head = [0u8; 8];
    let k = head.len().min(N);
    head[..k].copy_from_slice(&bytes[..k]);
    let n = u64::from_le_bytes(head);
    if N > 8 {
        let last = if N >= 16 { tail(n)[7] } else { fill(n) };
        assert_eq!(bytes[N - 1], last, "a torn value");
    }
    n
}

/// Plain old data of `$size` bytes: every bit pattern is valid, so `reserve` may hand it out.
macro_rules! bytes_elem {
    ($name:ident, $size:literal, align $align:literal) => {
        #[repr(C, align($align))]
        #[derive(Clone, Copy, PartialEq, Debug)]
        pub(crate) struct $name(pub(crate) [u8; $size]);

        const _: () = assert!(size_of::<$name>() == $size);

        // SAFETY: a byte array with no padding (its size is a multiple of its alignment).
        unsafe impl bytemuck::Zeroable for $name {}
        // SAFETY: as above; every bit pattern is a valid byte array.
        unsafe impl bytemuck::Pod for $name {}

        impl Elem for $name {
            fn make(n: u64) -> Self {
                $name(make_bytes(n))
            }

            fn key(n: u64) -> u64 {
                key_bytes::<$size>(n)
            }

            fn id(&self) -> u64 {
                id_bytes(&self.0)
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

    fn key(_: u64) -> u64 {
        0
    }

    fn id(&self) -> u64 {
        0
    }
}

/// An element `E` that adds its drop to this thread's total ([`counted_drops`]); it has
/// exactly `E`'s size and alignment, so the awkward sizes keep counting drops.
#[derive(Debug, PartialEq)]
pub(crate) struct Counted<E>(pub(crate) E);

impl<E: Elem> Elem for Counted<E> {
    fn make(n: u64) -> Self {
        Counted(E::make(n))
    }

    fn key(n: u64) -> u64 {
        E::key(n)
    }

    fn id(&self) -> u64 {
        self.0.id()
    }
}

impl<E> Drop for Counted<E> {
    fn drop(&mut self) {
        COUNTED.with(|d| d.set(d.get() + 1));
    }
}

/// How many [`Counted`] values this thread has dropped.
pub(crate) fn counted_drops() -> u64 {
    COUNTED.with(Cell::get)
}

thread_local! {
    /// Drops of [`Counted`] values (this thread's only).
    static COUNTED: Cell<u64> = const { Cell::new(0) };
    /// How often each id was made and dropped (this thread's tests only).
    static DROPS: RefCell<HashMap<u64, (u32, u32)>> = RefCell::new(HashMap::new());
    static PANIC_ON_DROP: Cell<Option<u64>> = const { Cell::new(None) };
    static PANIC_ON_CLONE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// A value of `8 + K` bytes (alignment 1) that counts its drops in this thread's ledger.
pub(crate) struct Tracked<const K: usize> {
    id: [u8; 8],
    pad: [u8; K],
}

impl<const K: usize> Elem for Tracked<K> {
    fn make(n: u64) -> Self {
        DROPS.with(|d| {
            let mut d = d.borrow_mut();
            let (made, dropped) = d.entry(n).or_default();
            assert_eq!(made, dropped, "id {n} made while another one lives");
            *made += 1;
        });
        Tracked {
            id: n.to_le_bytes(),
            pad: [n as u8; K],
        }
    }

    fn key(n: u64) -> u64 {
        n
    }

    fn id(&self) -> u64 {
        let id = u64::from_le_bytes(self.id);
        if K > 0 {
            assert!(
                self.pad[0] == id as u8 && self.pad[K - 1] == id as u8,
                "a torn value"
            );
        }
        id
    }
}

impl<const K: usize> Drop for Tracked<K> {
    fn drop(&mut self) {
        let id = self.id();
        DROPS.with(|d| d.borrow_mut().get_mut(&id).expect("made").1 += 1);
        if PANIC_ON_DROP.with(Cell::get) == Some(id) {
            panic!("intentional panic in the drop of {id}");
        }
    }
}

impl<const K: usize> Clone for Tracked<K> {
    /// A clone gets the id `id + CLONE_BASE`, so the ledger tells it from the original.
    fn clone(&self) -> Self {
        let id = self.id();
        if PANIC_ON_CLONE.with(Cell::get) == Some(id) {
            panic!("intentional panic in the clone of {id}");
        }
        Tracked::make(id + CLONE_BASE)
    }
}

impl<const K: usize> PartialEq for Tracked<K> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<const K: usize> fmt::Debug for Tracked<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tracked({})", self.id())
    }
}

/// The id offset of clones.
pub(crate) const CLONE_BASE: u64 = 1 << 24;

/// How many times `id` was dropped.
pub(crate) fn drops(id: u64) -> u32 {
    DROPS.with(|d| d.borrow().get(&id).map_or(0, |&(_, dropped)| dropped))
}

/// Forgets every recorded drop and panic trigger (at the start of a test).
pub(crate) fn reset_ledger() {
    DROPS.with(|d| d.borrow_mut().clear());
    PANIC_ON_DROP.with(|p| p.set(None));
    PANIC_ON_CLONE.with(|p| p.set(None));
}

/// Makes the drop of `id` panic (after it is counted).
pub(crate) fn panic_on_drop(id: Option<u64>) {
    PANIC_ON_DROP.with(|p| p.set(id));
}

/// Makes the clone of `id` panic (before anything is made).
pub(crate) fn panic_on_clone(id: Option<u64>) {
    PANIC_ON_CLONE.with(|p| p.set(id));
}

/// Asserts that every value made so far is either in `live` (and not dropped) or was
/// dropped exactly once.
pub(crate) fn assert_ledger(live: impl IntoIterator<Item = u64>, what: &str) {
    DROPS.with(|d| {
        let d = d.borrow();
        let mut alive: HashMap<u64, u32> = HashMap::new();
        for id in live {
            *alive.entry(id).or_default() += 1;
        }
        for (&id, &(made, dropped)) in d.iter() {
            let want = made - alive.get(&id).copied().unwrap_or(0);
            assert_eq!(
                dropped, want,
                "{what}: id {id} made {made} times, dropped {dropped}"
            );
        }
        for id in alive.keys() {
            assert!(d.contains_key(id), "{what}: id {id} was never made");
        }
    });
}

/// How many values were made since the last reset.
pub(crate) fn made_count() -> usize {
    DROPS.with(|d| d.borrow().len())
}
