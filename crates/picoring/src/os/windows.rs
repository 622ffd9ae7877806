//! Windows: one paging-file section, mapped twice into one split placeholder.
//!
//! 1. `VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER)`: a placeholder of `2 * period`
//!    bytes, address space that no other allocation can take but that a view may replace.
//! 2. `VirtualFree(MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER)` on the first `period` bytes: the
//!    placeholder is split in two, one per half.
//! 3. `CreateFileMappingW(INVALID_HANDLE_VALUE)`: a section of `period` bytes backed by the
//!    paging file. It has no name and its handle is not inheritable, so no other process can
//!    open, squat or leak it.
//! 4. `MapViewOfFile3(MEM_REPLACE_PLACEHOLDER)` on each half: each placeholder becomes a
//!    view of the whole section. The addresses are never released in between, so no other
//!    thread can map something there (no unmap-then-hope).
//! 5. The section handle is closed (`CloseHandle`); the views keep the section alive.
//!
//! Any failure unmaps the views made so far, releases the remaining placeholders and closes
//! the handle before it is reported. Windows has no `fork`, so there is no inheritance policy
//! to set.

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::ptr::{self, NonNull};

use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, MEM_PRESERVE_PLACEHOLDER, MEM_RELEASE, MEM_REPLACE_PLACEHOLDER,
    MEM_RESERVE, MEM_RESERVE_PLACEHOLDER, MEMORY_MAPPED_VIEW_ADDRESS, MapViewOfFile3,
    PAGE_NOACCESS, PAGE_READWRITE, UnmapViewOfFile, VirtualAlloc2, VirtualFree,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};

use crate::Error;

pub(crate) use super::NoTwin as Twin;

pub(crate) const MIRRORED: bool = true;

/// The allocation granularity (64 KiB), as the system reports it.
///
/// Views and placeholders start on multiples of it, so it is the unit of every mapping,
/// not the 4 KiB page.
pub(crate) fn granularity() -> usize {
    let mut info = MaybeUninit::<SYSTEM_INFO>::uninit();
    // SAFETY: `GetSystemInfo` cannot fail and fills the whole structure it is pointed to,
    // so it is initialised once the call returns.
    let info = unsafe {
        GetSystemInfo(info.as_mut_ptr());
        info.assume_init()
    };
    match usize::try_from(info.dwAllocationGranularity) {
        Ok(granule) if granule.is_power_of_two() => granule,
        _ => 65536,
    }
}

/// What one half of the range holds while [`map`] builds it.
#[derive(Clone, Copy)]
enum Half {
    /// A placeholder, released with `VirtualFree(MEM_RELEASE)`.
    Placeholder,
    /// A view of the section, released with `UnmapViewOfFile`.
    View,
}

/// The address range, released on drop unless it is handed out with [`Range::keep`].
struct Range {
    base: NonNull<u8>,
    period: usize,
    /// `None` while the range is still one placeholder of `2 * period` bytes.
    halves: Option<[Half; 2]>,
}

impl Range {
    fn keep(self) {
        std::mem::forget(self);
    }

    /// The first byte of half `index` (0 or 1).
    fn half(&self, index: usize) -> *mut c_void {
        self.base.as_ptr().wrapping_add(index * self.period).cast()
    }
}

impl Drop for Range {
    fn drop(&mut self) {
        let Some(halves) = self.halves else {
            // SAFETY: the range is one placeholder, not split yet, that this value owns and
            // nothing refers to; `MEM_RELEASE` with size 0 releases all of it.
            unsafe { VirtualFree(self.half(0), 0, MEM_RELEASE) };
            return;
        };
        for (index, half) in halves.into_iter().enumerate() {
            let at = self.half(index);
            match half {
                // SAFETY: `at` starts a placeholder of `period` bytes that this value owns
                // and nothing refers to; `MEM_RELEASE` with size 0 releases all of it.
                Half::Placeholder => unsafe { VirtualFree(at, 0, MEM_RELEASE) },
                // SAFETY: `at` is a view this value owns and nothing refers to; it replaced a
                // placeholder, so unmapping it releases its addresses as well.
                Half::View => unsafe { UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS { Value: at }) },
            };
        }
    }
}

pub(crate) fn map(period: usize) -> Result<NonNull<u8>, Error> {
    let len = period.checked_mul(2).ok_or(Error::CapacityOverflow)?;
    let section_len = u64::try_from(period).map_err(|_| Error::CapacityOverflow)?;
    // The section size is passed as two 32-bit halves of the full 64-bit size.
    let size_high = (section_len >> 32) as u32;
    let size_low = (section_len & 0xFFFF_FFFF) as u32;

    // SAFETY: a reservation in this process (null process handle) at an address of the
    // system's choosing (null base) touches no existing memory; no extended parameters.
    let base = unsafe {
        VirtualAlloc2(
            ptr::null_mut(),
            ptr::null(),
            len,
            MEM_RESERVE | MEM_RESERVE_PLACEHOLDER,
            PAGE_NOACCESS,
            ptr::null_mut(),
            0,
        )
    };
    let Some(base) = NonNull::new(base.cast::<u8>()) else {
        return Err(Error::last_os("VirtualAlloc2"));
    };
    let mut range = Range {
        base,
        period,
        halves: None,
    };

    // SAFETY: splits the placeholder this function owns at `period` bytes, a multiple of the
    // allocation granularity strictly inside it; nothing refers to it.
    let split = unsafe {
        VirtualFree(
            range.half(0),
            period,
            MEM_RELEASE | MEM_PRESERVE_PLACEHOLDER,
        )
    };
    if split == 0 {
        return Err(Error::last_os("VirtualFree"));
    }
    let mut halves = [Half::Placeholder; 2];
    range.halves = Some(halves);

    // SAFETY: a new section backed by the paging file (no file handle), with default
    // security (a handle that is not inherited) and no name; no existing object is touched.
    let section = unsafe {
        CreateFileMappingW(
            INVALID_HANDLE_VALUE,
            ptr::null(),
            PAGE_READWRITE,
            size_high,
            size_low,
            ptr::null(),
        )
    };
    if section.is_null() {
        return Err(Error::last_os("CreateFileMappingW"));
    }
    // SAFETY: `section` is a handle that was just opened and that nothing else owns; the
    // `OwnedHandle` closes it (`CloseHandle`) when dropped, on success and on every error.
    let section = unsafe { OwnedHandle::from_raw_handle(section) };

    for index in 0..2 {
        let at = range.half(index);
        // SAFETY: `at` and `period` are exactly one of the two placeholders this function
        // owns, as `MEM_REPLACE_PLACEHOLDER` requires; the section is `period` bytes long, so
        // offset 0 and size `period` lie inside it; null process handle: this process.
        let view = unsafe {
            MapViewOfFile3(
                section.as_raw_handle(),
                ptr::null_mut(),
                at,
                0,
                period,
                MEM_REPLACE_PLACEHOLDER,
                PAGE_READWRITE,
                ptr::null_mut(),
                0,
            )
        };
        if view.Value.is_null() {
            return Err(Error::last_os("MapViewOfFile3"));
        }
        halves[index] = Half::View;
        range.halves = Some(halves);
        debug_assert_eq!(view.Value, at, "a replaced placeholder keeps its address");
    }

    drop(section);
    range.keep();
    Ok(base)
}

/// Windows has no `fork`: no child can inherit a stale cache, so there is nothing to
/// register and `handler` is never called. Returns `true`, as recycling is always safe.
pub(crate) fn at_fork_child(_handler: extern "C" fn()) -> bool {
    true
}

/// Releases a mapping made by [`map`].
///
/// # Safety
///
/// `base` and `period` come from one call of [`map`], and nothing uses the memory any more.
pub(crate) unsafe fn unmap(base: NonNull<u8>, period: usize) {
    for offset in [0, period] {
        let view = MEMORY_MAPPED_VIEW_ADDRESS {
            Value: base.as_ptr().wrapping_add(offset).cast(),
        };
        // SAFETY: the caller hands over both views; each replaced a placeholder, so
        // unmapping it also releases its addresses.
        unsafe { UnmapViewOfFile(view) };
    }
}
