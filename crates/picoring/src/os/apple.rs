//! macOS and iOS: one anonymous region whose second half is remapped onto its first.
//!
//! 1. `mach_vm_allocate(VM_FLAGS_ANYWHERE)`: `2 * period` bytes of zero-filled memory at an
//!    address of the kernel's choosing. No file, port or name is created, so there is nothing
//!    another process could open, squat or leak.
//! 2. `mach_vm_remap(VM_FLAGS_FIXED | VM_FLAGS_OVERWRITE)` with `copy = FALSE`: the second
//!    half is replaced, in one call, by a shared (not copied) mapping of the first half's
//!    memory. The addresses are never released in between, so no other thread can map
//!    something there (no unmap-then-hope). The address the kernel reports is checked
//!    against the one requested.
//! 3. `mach_vm_inherit(VM_INHERIT_NONE)` on both halves: a child made by `fork` does not
//!    inherit the ring, as with `MADV_DONTFORK` on Linux.
//!
//! Any failure deallocates the region before it is reported. Mach calls return a
//! `kern_return_t`, not an `errno`, so the reported error carries that code in its message.

use std::io;
use std::ptr::{self, NonNull};

use mach2::boolean::boolean_t;
use mach2::kern_return::{KERN_SUCCESS, kern_return_t};
use mach2::traps::mach_task_self;
use mach2::vm::{mach_vm_allocate, mach_vm_deallocate, mach_vm_inherit, mach_vm_remap};
use mach2::vm_inherit::VM_INHERIT_NONE;
use mach2::vm_page_size::vm_page_size;
use mach2::vm_prot::{VM_PROT_NONE, vm_prot_t};
use mach2::vm_statistics::{VM_FLAGS_ANYWHERE, VM_FLAGS_FIXED, VM_FLAGS_OVERWRITE};
use mach2::vm_types::{mach_vm_address_t, mach_vm_size_t, vm_map_t};

use crate::Error;

pub(crate) use super::NoTwin as Twin;

pub(crate) const MIRRORED: bool = true;

/// `copy` argument of `mach_vm_remap`: share the source memory instead of copying it.
const FALSE: boolean_t = 0;

/// The page size, as the system reports it.
///
/// 16 KiB on Apple silicon, 4 KiB on Intel Macs.
pub(crate) fn granularity() -> usize {
    // SAFETY: `vm_page_size` is set by libSystem's initialiser, before any Rust code runs,
    // and never written again; reading it races with nothing.
    let raw = unsafe { vm_page_size };
    // 16 KiB is a multiple of every page size Apple uses, so it is a safe fallback.
    if raw.is_power_of_two() { raw } else { 16384 }
}

/// The port of this task, which every Mach VM call takes.
fn task() -> vm_map_t {
    // SAFETY: `mach_task_self` only reads `mach_task_self_`, which libSystem sets before any
    // Rust code runs and never changes afterwards.
    unsafe { mach_task_self() }
}

/// An [`Error::Map`] for a Mach call that returned `kr`.
fn kern_error(call: &'static str, kr: kern_return_t) -> Error {
    Error::Map {
        call,
        source: io::Error::other(format!("{call} returned kern_return_t {kr}")),
    }
}

/// The region, deallocated on drop unless it is handed out with [`Region::keep`].
struct Region {
    addr: mach_vm_address_t,
    size: mach_vm_size_t,
}

impl Region {
    fn keep(self) {
        std::mem::forget(self);
    }

    /// Whether `[addr, addr + size)` has a byte in common with the region.
    fn overlaps(&self, addr: mach_vm_address_t, size: mach_vm_size_t) -> bool {
        addr < self.addr.saturating_add(self.size) && self.addr < addr.saturating_add(size)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `addr..addr + size` is memory this value owns; nothing refers to it yet.
        unsafe { mach_vm_deallocate(task(), self.addr, self.size) };
    }
}

pub(crate) fn map(period: usize) -> Result<NonNull<u8>, Error> {
    let len = period.checked_mul(2).ok_or(Error::CapacityOverflow)?;
    let half = mach_vm_size_t::try_from(period).map_err(|_| Error::CapacityOverflow)?;
    let size = mach_vm_size_t::try_from(len).map_err(|_| Error::CapacityOverflow)?;

    let mut addr: mach_vm_address_t = 0;
    // SAFETY: `addr` is a valid place for the result; with `VM_FLAGS_ANYWHERE` the kernel
    // picks free addresses, so no existing memory is touched.
    let kr = unsafe { mach_vm_allocate(task(), &mut addr, size, VM_FLAGS_ANYWHERE) };
    if kr != KERN_SUCCESS {
        return Err(kern_error("mach_vm_allocate", kr));
    }
    let region = Region { addr, size };

    // Cannot overflow: the kernel handed out `[addr, addr + size)` and `half < size`.
    let target = addr + half;
    let mut mirror = target;
    let mut cur_protection: vm_prot_t = VM_PROT_NONE;
    let mut max_protection: vm_prot_t = VM_PROT_NONE;
    // SAFETY: `VM_FLAGS_FIXED | VM_FLAGS_OVERWRITE` replaces `[target, target + half)`, the
    // second half of the region this function owns and that nothing refers to; the source
    // `[addr, addr + half)` is its first half; every pointer is a valid place for a result.
    let kr = unsafe {
        mach_vm_remap(
            task(),
            &mut mirror,
            half,
            0,
            VM_FLAGS_FIXED | VM_FLAGS_OVERWRITE,
            task(),
            addr,
            FALSE,
            &mut cur_protection,
            &mut max_protection,
            VM_INHERIT_NONE,
        )
    };
    if kr != KERN_SUCCESS {
        return Err(kern_error("mach_vm_remap", kr));
    }
    if mirror != target {
        // A mapping outside the region is not freed by the region's drop: free it here.
        if !region.overlaps(mirror, half) {
            // SAFETY: `[mirror, mirror + half)` is the mapping just made by `mach_vm_remap`,
            // outside the region, and nothing refers to it.
            unsafe { mach_vm_deallocate(task(), mirror, half) };
        }
        return Err(Error::Map {
            call: "mach_vm_remap",
            source: io::Error::other(format!(
                "mach_vm_remap mapped the mirror at {mirror:#x} instead of {target:#x}"
            )),
        });
    }

    // SAFETY: the range is the region made above, both halves.
    let kr = unsafe { mach_vm_inherit(task(), addr, size, VM_INHERIT_NONE) };
    if kr != KERN_SUCCESS {
        return Err(kern_error("mach_vm_inherit", kr));
    }

    // Lossless: an address of this process fits in a `usize`. The memory comes from the
    // kernel, so its provenance is the exposed one.
    let base = ptr::with_exposed_provenance_mut::<u8>(addr as usize);
    let Some(base) = NonNull::new(base) else {
        return Err(Error::Map {
            call: "mach_vm_allocate",
            source: io::Error::other("mach_vm_allocate returned address 0"),
        });
    };
    region.keep();
    Ok(base)
}

/// Runs `handler` in the child after every `fork()`. Returns whether it was registered.
pub(crate) fn at_fork_child(handler: extern "C" fn()) -> bool {
    // SAFETY: registering a handler has no preconditions; `handler` only touches an atomic,
    // which is allowed in a forked child.
    unsafe { libc::pthread_atfork(None, None, Some(handler)) == 0 }
}

/// Releases a mapping made by [`map`].
///
/// # Safety
///
/// `base` and `period` come from one call of [`map`], and nothing uses the memory any more.
pub(crate) unsafe fn unmap(base: NonNull<u8>, period: usize) {
    let addr = base.as_ptr().addr() as mach_vm_address_t;
    let size = (2 * period) as mach_vm_size_t;
    // SAFETY: the caller hands over the whole mapping, both halves in one range.
    unsafe { mach_vm_deallocate(task(), addr, size) };
}
