//! Process-wide memory barriers: one thread makes every running thread of the process
//! execute a full barrier.
//!
//! With it, a frequent path (publishing an index) can order its store before a later load
//! with a compiler fence alone, while a rare path (going to sleep) pays for both sides. Where
//! the OS offers no such call, both functions return `false` and callers use full fences.

/// Prepares [`process_barrier`]; `true` if it will work.
pub(crate) fn register() -> bool {
    imp::register()
}

/// Makes every running thread of this process execute a full memory barrier before it
/// returns; `false` if it could not.
pub(crate) fn process_barrier() -> bool {
    imp::process_barrier()
}

#[cfg(all(not(any(miri, loom)), any(target_os = "linux", target_os = "android")))]
mod imp {
    // Values from <linux/membarrier.h>.
    const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integers and touches no memory of the caller.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    pub(super) fn register() -> bool {
        let supported = membarrier(MEMBARRIER_CMD_QUERY);
        supported >= 0
            && supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn process_barrier() -> bool {
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(all(not(any(miri, loom)), windows))]
mod imp {
    use windows_sys::Win32::System::Threading::FlushProcessWriteBuffers;

    pub(super) fn register() -> bool {
        true
    }

    pub(super) fn process_barrier() -> bool {
        // SAFETY: the call takes no arguments; it interrupts every processor running a
        // thread of this process and returns after each has flushed its write buffer.
        unsafe { FlushProcessWriteBuffers() };
        true
    }
}

#[cfg(not(all(
    not(any(miri, loom)),
    any(target_os = "linux", target_os = "android", windows)
)))]
mod imp {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn process_barrier() -> bool {
        false
    }
}
