//! `PicoByteStream`: a model test against a `VecDeque<u8>` through every way in and out,
//! checked counts, std's in-memory I/O semantics, `io::copy` and `BufRead::lines` across
//! the physical end, and (with the `bytes` feature) `Buf` / `BufMut`.

use std::collections::VecDeque;
use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Write};
use std::panic::{self, AssertUnwindSafe};

use picoring::PicoByteStream;
use proptest::prelude::*;

mod common;
use common::XorShift;

fn quiet() {
    common::quiet_expected_panics(&["cannot "]);
}

fn assert_panics(prefix: &str, f: impl FnOnce()) {
    let err = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    let msg = common::panic_message(&*err);
    assert!(msg.starts_with(prefix), "panic {msg:?} is not {prefix:?}");
}

/// A stream whose next byte goes `before_end` bytes before its physical end.
fn parked(capacity: usize, before_end: usize) -> PicoByteStream {
    let mut s = PicoByteStream::new(capacity).unwrap();
    let skip = s.capacity() - before_end;
    let n = s.as_write_slice().len();
    assert!(n >= skip);
    s.produce(skip);
    s.consume(skip);
    s
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

struct Run {
    stream: PicoByteStream,
    model: VecDeque<u8>,
    next: u8,
}

impl Run {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.next = self.next.wrapping_add(7);
                self.next
            })
            .collect()
    }

    fn step(&mut self, (kind, a, b): (u8, u16, u16)) {
        let cap = self.stream.capacity();
        let len = self.stream.len();
        let free = cap - len;
        let amount = |total: usize, p: u16| match p % 6 {
            0 => total,
            1 => total + 1,
            2 => p as usize % 5,
            _ => total * (p as usize % 1300) / 1000,
        };
        match kind % 12 {
            0 | 1 => {
                let data = self.bytes(amount(free, a));
                let n = self.stream.write(&data).unwrap();
                assert_eq!(n, data.len().min(free), "write stores as much as fits");
                self.model.extend(&data[..n]);
            }
            2 => {
                let n1 = amount(free, a) / 2;
                let data = self.bytes(amount(free, b));
                let (x, y) = data.split_at(n1.min(data.len()));
                let n = self
                    .stream
                    .write_vectored(&[IoSlice::new(x), IoSlice::new(&[]), IoSlice::new(y)])
                    .unwrap();
                assert_eq!(n, data.len().min(free));
                self.model.extend(&data[..n]);
            }
            3 => {
                let n = amount(free, a);
                if n > free {
                    assert_panics("cannot produce", || self.stream.produce(n));
                } else {
                    let data = self.bytes(n);
                    let w = self.stream.as_write_slice();
                    assert_eq!(w.len(), free);
                    w[..n].copy_from_slice(&data);
                    let k = w.len();
                    assert_eq!(k, free);
                    self.stream.produce(n);
                    self.model.extend(&data);
                }
            }
            4 | 5 => {
                let mut buf = vec![0; amount(len, a)];
                let n = self.stream.read(&mut buf).unwrap();
                assert_eq!(n, buf.len().min(len), "read returns as much as there is");
                let want: Vec<u8> = self.model.drain(..n).collect();
                assert_eq!(&buf[..n], want);
            }
            6 => {
                let mut b1 = vec![0; amount(len, a) / 2];
                let mut b2 = vec![0; amount(len, b)];
                let n = self
                    .stream
                    .read_vectored(&mut [IoSliceMut::new(&mut b1), IoSliceMut::new(&mut b2)])
                    .unwrap();
                assert_eq!(n, (b1.len() + b2.len()).min(len));
                let got: Vec<u8> = b1.iter().chain(&b2).take(n).copied().collect();
                let want: Vec<u8> = self.model.drain(..n).collect();
                assert_eq!(got, want);
            }
            7 | 8 => {
                let n = amount(len, a);
                if n > len {
                    assert_panics("cannot consume", || self.stream.consume(n));
                } else {
                    let got = self.stream.fill_buf().unwrap().to_vec();
                    assert_eq!(got.len(), len, "fill_buf returns every readable byte");
                    BufRead::consume(&mut self.stream, n);
                    self.model.drain(..n);
                }
            }
            9 => {
                let mut buf = vec![0; amount(len, a)];
                match self.stream.read_exact(&mut buf) {
                    Ok(()) => {
                        let want: Vec<u8> = self.model.drain(..buf.len()).collect();
                        assert_eq!(buf, want);
                    }
                    Err(e) => {
                        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
                        assert!(buf.len() > len);
                        assert_eq!(self.stream.len(), len, "a failed read_exact reads nothing");
                    }
                }
            }
            10 => {
                let data = self.bytes(amount(free, a));
                match self.stream.write_all(&data) {
                    Ok(()) => self.model.extend(&data),
                    Err(e) => {
                        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
                        assert!(data.len() > free);
                        assert_eq!(self.stream.len(), len, "a failed write_all writes nothing");
                    }
                }
            }
            _ => {
                #[cfg(feature = "bytes")]
                {
                    use bytes::{Buf, BufMut};
                    if a % 2 == 0 {
                        let data = self.bytes(amount(free, b).min(free));
                        self.stream.put_slice(&data);
                        self.model.extend(&data);
                    } else {
                        let n = amount(len, b).min(len);
                        assert_eq!(self.stream.chunk().len(), len);
                        self.stream.advance(n);
                        self.model.drain(..n);
                    }
                }
            }
        }
        let s = &self.stream;
        assert_eq!(s.len(), self.model.len());
        assert_eq!(s.available_to_read(), s.len());
        assert_eq!(s.available_to_write(), cap - s.len());
        assert_eq!(s.is_empty(), self.model.is_empty());
        assert_eq!(s.is_full(), s.len() == cap);
        let (x, y) = self.model.as_slices();
        let view = s.as_read_slice();
        assert_eq!(&view[..x.len()], x);
        assert_eq!(&view[x.len()..], y);
    }
}

fn run(steps: impl IntoIterator<Item = (u8, u16, u16)>) {
    quiet();
    let mut run = Run {
        stream: PicoByteStream::new(1).unwrap(),
        model: VecDeque::new(),
        next: 0,
    };
    for step in steps {
        run.step(step);
    }
}

#[test]
fn model_xorshift() {
    for seed in 0..if cfg!(miri) { 1 } else { 8 } {
        let mut rng = XorShift(seed * 31 + 1);
        let steps = if cfg!(miri) { 80 } else { 2000 };
        run((0..steps).map(|_| {
            let x = rng.next();
            (x as u8, (x >> 8) as u16, (x >> 24) as u16)
        }));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    #[cfg_attr(miri, ignore = "model_xorshift covers Miri")]
    fn model_proptest(steps in proptest::collection::vec(any::<(u8, u16, u16)>(), 1..300)) {
        run(steps);
    }
}

// ---------------------------------------------------------------------------------------
// I/O semantics
// ---------------------------------------------------------------------------------------

#[test]
fn empty_reads_and_full_writes_return_zero() {
    let mut s = PicoByteStream::new(1).unwrap();
    let cap = s.capacity();
    let mut buf = [0u8; 8];
    assert_eq!(s.read(&mut buf).unwrap(), 0, "like VecDeque<u8>");
    assert_eq!(s.read(&mut []).unwrap(), 0);
    assert_eq!(s.fill_buf().unwrap(), b"");
    let mut all = Vec::new();
    assert_eq!(s.read_to_end(&mut all).unwrap(), 0);
    assert_eq!(
        s.read_exact(&mut buf).unwrap_err().kind(),
        io::ErrorKind::UnexpectedEof
    );

    assert_eq!(s.write(&vec![1; cap + 5]).unwrap(), cap, "a short write");
    assert_eq!(s.write(b"x").unwrap(), 0, "like &mut [u8]");
    assert_eq!(
        s.write_all(b"x").unwrap_err().kind(),
        io::ErrorKind::WriteZero
    );
    assert!(s.as_write_slice().is_empty());
    s.flush().unwrap();
    assert_eq!(s.len(), cap);
}

#[test]
fn counts_past_their_bounds_panic_and_change_nothing() {
    quiet();
    let mut s = parked(1, 3);
    let cap = s.capacity();
    s.write_all(b"abcdef").unwrap();
    assert_panics("cannot consume 7 bytes: 6 are readable", || s.consume(7));
    assert_panics("cannot consume 7 bytes: 6 are readable", || {
        BufRead::consume(&mut s, 7)
    });
    let free = cap - 6;
    let msg = format!("cannot produce {} bytes: {free} are writable", free + 1);
    assert_panics(&msg, || s.produce(free + 1));
    assert_eq!(s.as_read_slice(), b"abcdef");
    assert_eq!(s.available_to_write(), free);
}

#[test]
fn the_seed_snippets_round_trip() {
    let mut stream = PicoByteStream::new(65536).unwrap();
    stream.write_all(b"Technical Protocol Data").unwrap();
    let mut buffer = [0u8; 9];
    stream.read_exact(&mut buffer).unwrap();
    assert_eq!(&buffer, b"Technical");
    let readable = stream.as_read_slice();
    assert_eq!(readable, b" Protocol Data");
    stream.consume(readable.len());
    let writable = stream.as_write_slice();
    let n = writable.len();
    assert_eq!(n, stream_capacity(65536));
    stream.produce(n);
    assert!(stream.is_full());
    assert!(
        stream
            .as_read_slice()
            .iter()
            .all(|&b| b == 0 || b"Technical Protocol Data".contains(&b))
    );
}

fn stream_capacity(n: usize) -> usize {
    PicoByteStream::new(n).unwrap().capacity()
}

#[test]
fn io_copy_through_a_stream() {
    let n: u32 = if cfg!(miri) { 20_000 } else { 200_000 };
    let data: Vec<u8> = (0..n).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut stream = parked(4096, 1000);
    let cap = stream.capacity();
    let mut out = Vec::new();
    let mut input = &data[..];
    while !input.is_empty() || !stream.is_empty() {
        // Fill what fits, then drain into `out`, both with `io::copy`.
        let room = stream.available_to_write() as u64;
        io::copy(&mut (&mut input).take(room), &mut stream).unwrap();
        assert!(stream.len() <= cap);
        io::copy(&mut stream, &mut out).unwrap();
        assert!(stream.is_empty());
    }
    assert_eq!(out, data);

    // A copy into a stream that is too small fails as `&mut [u8]` does. Each `write_all`
    // is whole or nothing, so the stream keeps a prefix of the data made of whole writes.
    let mut small = PicoByteStream::new(1).unwrap();
    let err = io::copy(&mut &data[..], &mut small).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    assert!(data.starts_with(small.as_read_slice()));
}

#[test]
fn buf_read_lines_across_the_physical_end() {
    let mut stream = parked(4096, 7);
    let text = "first line\nsecond\n\nfourth, the last";
    stream.write_all(text.as_bytes()).unwrap();
    // The text straddles the end: the mapping shows it as one slice all the same.
    assert_eq!(stream.fill_buf().unwrap(), text.as_bytes());
    let lines: Vec<String> = (&mut stream).lines().map(Result::unwrap).collect();
    assert_eq!(lines, ["first line", "second", "", "fourth, the last"]);
    assert!(stream.is_empty());
}

#[test]
fn vectored_io_does_as_much_as_fits() {
    let mut s = parked(1, 2);
    let cap = s.capacity();
    let big = vec![9u8; cap];
    let n = s
        .write_vectored(&[IoSlice::new(b"xyz"), IoSlice::new(&big), IoSlice::new(b"q")])
        .unwrap();
    assert_eq!(n, cap);
    let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 4], vec![0u8; cap]);
    let n = s
        .read_vectored(&mut [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ])
        .unwrap();
    assert_eq!(n, cap);
    assert_eq!(&a, b"xy");
    assert_eq!(&b, b"z\x09\x09\x09");
    assert!(s.is_empty());
}

#[test]
fn debug_and_static_capacity() {
    let mut s = PicoByteStream::<8192>::new_static().unwrap();
    s.write_all(b"ab").unwrap();
    let cap = s.capacity();
    assert_eq!(
        format!("{s:?}"),
        format!("PicoByteStream {{ len: 2, capacity: {cap} }}")
    );
}

#[cfg(feature = "bytes")]
#[test]
fn bytes_buf_and_buf_mut_see_the_whole_region() {
    use bytes::{Buf, BufMut};

    let mut s = parked(1, 3);
    let cap = s.capacity();
    assert_eq!(s.remaining_mut(), cap);
    assert_eq!(s.chunk_mut().len(), cap);
    s.put_u64(0x0102_0304_0506_0708);
    s.put_slice(b"tail");
    assert_eq!(s.remaining(), 12);
    assert_eq!(
        s.chunk().len(),
        12,
        "chunk() is every readable byte, across the end"
    );
    assert_eq!(s.get_u64(), 0x0102_0304_0506_0708);
    assert_eq!(s.chunk(), b"tail");
    let mut out = Vec::new();
    out.put(&mut s);
    assert_eq!(out, b"tail");
    assert!(!s.has_remaining());
    // SAFETY: 0 bytes are vouched for.
    unsafe { s.advance_mut(0) };
}
