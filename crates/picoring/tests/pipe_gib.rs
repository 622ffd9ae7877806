//! One GiB through a pipe between two threads, from a tmpfs file to a Unix socket, with a
//! checksum computed on both ends. Optimised builds only:
//!
//! ```text
//! cargo test -p picoring --release --test pipe_gib
//! ```

#![cfg(unix)]

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;

use picoring::pipe;

const SIZE: usize = 1 << 30;
const RING: usize = 1 << 20;

/// A streaming checksum over little-endian `u64` words (a multiply-rotate chain, so the
/// order of the words matters), fed in chunks of any size.
#[derive(Default)]
struct Checksum {
    acc: u64,
    len: u64,
    carry: [u8; 8],
    carried: usize,
}

impl Checksum {
    fn word(&mut self, w: u64) {
        self.acc = (self.acc ^ w)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.carried > 0 {
            let k = (8 - self.carried).min(bytes.len());
            self.carry[self.carried..self.carried + k].copy_from_slice(&bytes[..k]);
            self.carried += k;
            bytes = &bytes[k..];
            if self.carried < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.carry));
            self.carried = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().unwrap()));
        }
        let rest = words.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    fn finish(mut self) -> (u64, u64) {
        if self.carried > 0 {
            self.carry[self.carried..].fill(0);
            self.word(u64::from_le_bytes(self.carry));
        }
        (self.acc, self.len)
    }
}

/// A file on tmpfs that is deleted when this is dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Writes `SIZE` pseudo-random bytes (xorshift64) to a new tmpfs file; returns it and the
/// checksum of its contents.
fn random_file() -> (TempFile, (u64, u64)) {
    let dir = PathBuf::from("/dev/shm");
    let dir = if dir.is_dir() {
        dir
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!("picoring-pipe-gib-{}", std::process::id()));
    let file = TempFile(path);
    let mut out = File::create(&file.0).unwrap();
    let mut sum = Checksum::default();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..SIZE / block.len() {
        for w in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            w.copy_from_slice(&state.to_le_bytes());
        }
        sum.update(&block);
        out.write_all(&block).unwrap();
    }
    (file, sum.finish())
}

#[test]
#[cfg_attr(debug_assertions, ignore = "moves 1 GiB: run optimised (--release)")]
#[cfg_attr(miri, ignore = "moves 1 GiB")]
fn one_gib_from_a_file_to_a_socket() {
    let (file, expected) = random_file();
    let (mut producer, mut consumer) = pipe::new(RING, 4096.min(picoring::granularity())).unwrap();
    producer.set_blocking(true);
    consumer.set_blocking(true);
    let (mut sender, mut receiver) = UnixStream::pair().unwrap();

    let mut input = File::open(&file.0).unwrap();
    let filler = thread::spawn(move || {
        let mut calls = 0u64;
        loop {
            let n = producer
                .io_slices(|bufs, len| {
                    assert!(len > 0 && bufs.len() == 1);
                    input.read_vectored(bufs)
                })
                .unwrap();
            if n == 0 {
                break calls;
            }
            calls += 1;
        }
        // Dropping the producer ends the stream.
    });
    let drainer = thread::spawn(move || {
        let mut moved = 0u64;
        loop {
            let n = consumer
                .io_slices(|bufs, len| {
                    assert!(len > 0 && bufs.len() == 1);
                    sender.write_vectored(bufs)
                })
                .unwrap();
            if n == 0 {
                break moved;
            }
            moved += n as u64;
        }
        // Dropping the socket ends the receiver's stream.
    });

    let mut sum = Checksum::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = receiver.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        sum.update(&buf[..n]);
    }
    let calls = filler.join().unwrap();
    let moved = drainer.join().unwrap();
    drop(file);

    assert_eq!(moved, SIZE as u64);
    assert!(calls >= (SIZE / RING) as u64);
    assert_eq!(sum.finish(), expected, "checksum and length on both ends");
}

#[test]
fn checksum_does_not_depend_on_chunking() {
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 37 % 256) as u8).collect();
    let mut whole = Checksum::default();
    whole.update(&data);
    let mut pieces = Checksum::default();
    for chunk in data.chunks(3) {
        pieces.update(chunk);
    }
    assert_eq!(whole.finish(), pieces.finish());
    let mut other = Checksum::default();
    other.update(&data[1..]);
    other.update(&data[..1]);
    assert_ne!(other.finish().0, {
        let mut c = Checksum::default();
        c.update(&data);
        c.finish().0
    });
}
