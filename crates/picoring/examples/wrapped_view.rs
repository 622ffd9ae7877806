//! Shows a ring whose items wrap its physical end and are still one slice.
//!
//! ```text
//! cargo run --release --example wrapped_view
//! ```

use picoring::PicoRing;

fn main() -> Result<(), picoring::Error> {
    let mut ring = PicoRing::<u8>::with_capacity(4096)?;
    let cap = ring.capacity();
    println!(
        "capacity {cap} bytes (mapping granularity {} bytes)",
        picoring::granularity()
    );

    // Park the head and tail 5 bytes before the physical end.
    ring.push_slice(&vec![b'.'; cap - 5]);
    ring.advance_tail(cap - 5);

    // A message that starts in the last 5 bytes and continues at the start.
    let message = b"hello, mirrored world";
    let pushed = ring.push_slice(message);
    assert_eq!(pushed, message.len());

    let view = ring.readable_slice();
    let base = view.as_ptr() as usize;
    println!(
        "readable_slice(): {} bytes at offset {} of a {cap}-byte ring: {:?}",
        view.len(),
        cap - 5,
        String::from_utf8_lossy(view)
    );
    println!(
        "bytes 0..5 live at the physical end, bytes 5..{} at the start, read through the \
         second mapping at {:#x}..{:#x}",
        view.len(),
        base + 5,
        base + view.len()
    );
    assert_eq!(view, message);

    // Items that are not bytes wrap the same way: 12-byte records.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Sample {
        t: u32,
        left: f32,
        right: f32,
    }
    let mut samples = PicoRing::<Sample>::with_capacity(1)?;
    let cap = samples.capacity();
    for t in 0..cap as u32 + 3 {
        samples.push_overwrite(Sample {
            t,
            left: t as f32,
            right: -(t as f32),
        });
    }
    let window = samples.readable_slice();
    println!(
        "12-byte samples: capacity {cap}, window {}..={} as one slice (wraps after item {})",
        window[0].t,
        window[cap - 1].t,
        cap - 3
    );
    assert!(window.windows(2).all(|w| w[1].t == w[0].t + 1));
    Ok(())
}
