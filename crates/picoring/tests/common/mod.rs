//! Helpers shared by the integration tests.

#![allow(dead_code, reason = "each test binary uses a part of these helpers")]

pub(crate) mod elem;

use std::panic;
use std::sync::Once;

/// The text of a panic payload, or `""` if it is not a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

/// Keeps the panics a test provokes on purpose, those whose message starts with one of
/// `prefixes`, out of the output; every other panic prints as usual. Installed once per
/// test binary.
pub(crate) fn quiet_expected_panics(prefixes: &'static [&'static str]) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let msg = panic_message(info.payload());
            if !prefixes.iter().any(|p| msg.starts_with(p)) {
                default(info);
            }
        }));
    });
}

/// The lines of `/proc/self/maps` that are views of picoring's memory files.
#[cfg(target_os = "linux")]
pub(crate) fn picoring_views() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.contains("memfd:picoring"))
        .count()
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
