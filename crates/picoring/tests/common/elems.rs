//! Element types for the collections' model tests: plain-old-data values of odd sizes, and
//! values that count their drops (and can be told to panic in `Drop` or `Clone`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;

/// A value made from a counter, whose `id()` reads the counter back as far as the value's
/// size allows (`key(n)` is what `make(n).id()` returns).
pub(crate) trait Elem: Sized + fmt::Debug {
    fn make(n: u64) -> Self;
    fn key(n: u64) -> u64;
    fn id(&self) -> u64;
}

/// Plain old data of `$size` bytes: every bit pattern is valid, so `reserve` may hand it out.
macro_rules! pod_elem {
    ($name:ident, $size:literal, align $align:literal) => {
        #[repr(C, align($align))]
        #[derive(Clone, Copy, PartialEq, Debug)]
        pub(crate) struct $name(pub(crate) [u8; $size]);

        const _: () = assert!(std::mem::size_of::<$name>() == $size);

        // SAFETY: a byte array with no padding (its size is a multiple of its alignment).
        unsafe impl bytemuck::Zeroable for $name {}
        // SAFETY: as above; every bit pattern is a valid byte array.
        unsafe impl bytemuck::Pod for $name {}

        impl Elem for $name {
            fn make(n: u64) -> Self {
                let mut bytes = [(n as u8) ^ 0x5a; $size];
                let le = n.to_le_bytes();
                let k = le.len().min($size);
                bytes[..k].copy_from_slice(&le[..k]);
                $name(bytes)
            }

            fn key(n: u64) -> u64 {
                if $size >= 8 {
                    n
                } else {
                    n & ((1u64 << (8 * $size)) - 1)
                }
            }

            fn id(&self) -> u64 {
                let mut le = [0u8; 8];
                let k = le.len().min($size);
                le[..k].copy_from_slice(&self.0[..k]);
                if $size > 8 {
                    assert_eq!(self.0[$size - 1], le[0] ^ 0x5a, "a torn value");
                }
                u64::from_le_bytes(le)
            }
        }
    };
}

pod_elem!(P1, 1, align 1);
pod_elem!(P3, 3, align 1);
pod_elem!(P12, 12, align 4);
pod_elem!(P24, 24, align 8);
pod_elem!(P48, 48, align 16);
pod_elem!(P4100, 4100, align 4);

thread_local! {
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

/// A deterministic generator for the Miri-sized runs and for proptest-chosen seeds.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub(crate) fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}
