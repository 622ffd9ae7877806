//! Edges, `std::io` paths, the blocking mode and a model test of `picoring::pipe`.

mod common;

use std::collections::VecDeque;
use std::error::Error as _;
use std::io::{self, BufRead, IoSlice, IoSliceMut, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use picoring::pipe::{self, Buffer, Consumer, ConsumerError, Producer, ProducerError};
use picoring::{Error, granularity};

/// A pipe of the smallest size, which is one mapping granule.
fn small() -> (Producer, Consumer) {
    pipe::new(1, 1).unwrap()
}

/// Moves both positions `by` bytes forward through an empty pipe.
fn park(producer: &mut Producer, consumer: &mut Consumer, by: usize) {
    let free = producer.write_slice();
    free[..by].fill(0xEE);
    producer.produce(by);
    consumer.consume(by);
}

/// A cheap PRNG (xorshift64*), the same in every test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn assert_send<T: Send>() {}

#[test]
fn halves_are_send() {
    assert_send::<Producer>();
    assert_send::<Consumer>();
    assert_send::<Buffer>();
}

#[test]
fn bad_requests_are_typed_errors() {
    let g = granularity();
    assert!(matches!(Buffer::new(0, 1), Err(Error::ZeroCapacity)));
    assert!(matches!(
        Buffer::new(1, 0),
        Err(Error::AlignmentNotPowerOfTwo { align: 0 })
    ));
    let err = Buffer::new(1, 3).unwrap_err();
    assert!(matches!(err, Error::AlignmentNotPowerOfTwo { align: 3 }));
    assert_eq!(
        err.to_string(),
        "alignment of 3 bytes is not a power of two"
    );
    let err = Buffer::new(1, 2 * g).unwrap_err();
    assert!(
        matches!(err, Error::AlignmentTooLarge { align, granularity } if align == 2 * g && granularity == g)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "alignment of {} bytes exceeds the mapping granularity of {g} bytes",
            2 * g
        )
    );
    assert!(matches!(
        Buffer::new(usize::MAX, 1),
        Err(Error::CapacityOverflow)
    ));
    assert!(matches!(
        pipe::new(isize::MAX as usize, 1),
        Err(Error::CapacityOverflow)
    ));

    let io_err = io::Error::from(Buffer::new(0, 1).unwrap_err());
    assert_eq!(io_err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(io_err.to_string(), "capacity must be at least one element");
    let inner = io_err.into_inner().unwrap();
    assert!(matches!(
        inner.downcast_ref::<Error>(),
        Some(Error::ZeroCapacity)
    ));
}

#[test]
fn size_is_rounded_up_and_alignment_holds() {
    let g = granularity();
    let mut align = 1;
    while align <= g {
        let buffer = Buffer::new(g + 1, align).unwrap();
        assert_eq!(buffer.capacity(), 2 * g);
        let (mut producer, consumer) = buffer.into_parts();
        assert_eq!(producer.capacity(), 2 * g);
        assert_eq!(consumer.capacity(), 2 * g);
        assert_eq!(producer.write_slice().as_ptr() as usize % align, 0);
        align *= 2;
    }
}

/// The seed's snippet, in a function returning `io::Result`.
fn seed_relay(input: &mut impl Read, output: &mut impl Write) -> io::Result<(usize, usize)> {
    let buffer = picoring::pipe::Buffer::new(4096, granularity().min(4096))?;
    let (mut reader, mut writer) = buffer.into_parts();

    let r = reader.io_slices(|bufs, _len| {
        let r = input.read_vectored(bufs)?;
        Ok(r)
    })?;
    let w = writer.io_slices(|bufs, _| output.write_vectored(bufs))?;
    Ok((r, w))
}

#[test]
fn seed_snippet_runs() {
    let mut output = Vec::new();
    let (r, w) = seed_relay(&mut &b"GET / HTTP/1.1\r\n"[..], &mut output).unwrap();
    assert_eq!((r, w), (16, 16));
    assert_eq!(output, b"GET / HTTP/1.1\r\n");
    // An empty input is an EOF for the reader, and nothing to write is `WouldBlock`.
    let err = seed_relay(&mut &b""[..], &mut output).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn producer_offers_one_slice_of_all_free_bytes() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    park(&mut producer, &mut consumer, cap - 5);
    producer.write_all(b"ab").unwrap();
    // The free bytes wrap the physical end; they still come as one slice.
    let n = producer
        .io_slices(|bufs, len| {
            assert_eq!(bufs.len(), 1);
            assert_eq!(len, cap - 2);
            assert_eq!(bufs[0].len(), len);
            bufs[0][..6].copy_from_slice(b"cdefgh");
            Ok(6)
        })
        .unwrap();
    assert_eq!(n, 6);
    assert_eq!(consumer.read_slice(), b"abcdefgh");
    assert_eq!(producer.len(), 8);
    assert_eq!(producer.free(), cap - 8);
    assert_eq!(consumer.len(), 8);
    assert_eq!(consumer.free(), cap - 8);
}

#[test]
fn consumer_offers_one_slice_of_all_readable_bytes() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    park(&mut producer, &mut consumer, cap - 3);
    let data: Vec<u8> = (0..cap as u32).map(|i| (i * 7) as u8).collect();
    producer.write_all(&data).unwrap();
    assert!(producer.is_full());
    let n = consumer
        .io_slices(|bufs, len| {
            assert_eq!(bufs.len(), 1);
            assert_eq!(len, cap);
            assert_eq!(&*bufs[0], &data[..]);
            Ok(len)
        })
        .unwrap();
    assert_eq!(n, cap);
    assert!(consumer.is_empty());
}

#[test]
fn full_producer_does_not_call_back() {
    let (mut producer, consumer) = small();
    let cap = producer.capacity();
    assert_eq!(producer.write(&vec![1; cap + 10]).unwrap(), cap);
    assert!(producer.is_full());
    let err = producer
        .io_slices(|_, _| -> io::Result<usize> { panic!("called with nothing to offer") })
        .unwrap_err();
    assert!(matches!(err, ProducerError::Full));
    assert_eq!(err.to_string(), "pipe is full");
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::WouldBlock);
    let err = producer
        .slices(|_, _| -> Result<usize, ()> { panic!("called with nothing to offer") })
        .unwrap_err();
    assert_eq!(err, ProducerError::Full);
    assert_eq!(
        producer.write(b"x").unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(producer.write_slice().is_empty());
    assert_eq!(consumer.len(), cap);
}

#[test]
fn empty_consumer_does_not_call_back_and_is_not_eof() {
    let (producer, mut consumer) = small();
    let err = consumer
        .io_slices(|_, _| -> io::Result<usize> { panic!("called with nothing to offer") })
        .unwrap_err();
    assert!(matches!(err, ConsumerError::Empty));
    assert_eq!(err.to_string(), "pipe is empty");
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::WouldBlock);
    let err = consumer
        .slices(|_, _| -> Result<usize, ()> { panic!("called with nothing to offer") })
        .unwrap_err();
    assert_eq!(err, ConsumerError::Empty);
    let mut buf = [0; 8];
    assert_eq!(
        consumer.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert_eq!(
        consumer.fill_buf().unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    let mut all = Vec::new();
    assert_eq!(
        consumer.read_to_end(&mut all).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    assert!(!consumer.is_closed());
    drop(producer);
}

#[test]
fn eof_only_after_close_and_drain() {
    let (mut producer, mut consumer) = small();
    producer.write_all(b"tail").unwrap();
    assert!(!producer.is_closed());
    producer.close();
    assert!(producer.is_closed());
    assert!(consumer.is_closed());
    // Still readable after the close.
    let n = consumer
        .io_slices(|bufs, _| {
            assert_eq!(&*bufs[0], b"tail");
            Ok(2)
        })
        .unwrap();
    assert_eq!(n, 2);
    let mut buf = [0; 8];
    assert_eq!(consumer.read(&mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"il");
    // Now the end: `Ok(0)` everywhere, no callback.
    let n = consumer
        .io_slices(|_, _| -> io::Result<usize> { panic!("called at the end of the stream") })
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        consumer.slices(|_, _| -> Result<usize, ()> { panic!() }),
        Ok(0)
    );
    assert_eq!(consumer.read(&mut buf).unwrap(), 0);
    assert!(consumer.fill_buf().unwrap().is_empty());
    // Writing after the close is refused.
    let err = producer.io_slices(|_, len| Ok(len)).unwrap_err();
    assert!(matches!(err, ProducerError::Closed));
    assert_eq!(
        producer.write(b"x").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
    // A closed, empty pipe reads `Ok(0)` in blocking mode too, at once.
    consumer.set_blocking(true);
    assert_eq!(consumer.read(&mut buf).unwrap(), 0);
}

#[test]
fn dropping_the_producer_ends_the_stream() {
    let (mut producer, mut consumer) = small();
    producer.write_all(b"bye").unwrap();
    drop(producer);
    assert!(consumer.is_closed());
    let mut all = String::new();
    consumer.read_to_string(&mut all).unwrap();
    assert_eq!(all, "bye");
}

#[test]
fn writing_without_consumer_is_broken_pipe() {
    let (mut producer, consumer) = small();
    producer.write_all(b"unread").unwrap();
    drop(consumer);
    assert!(producer.is_closed());
    let err = producer
        .io_slices(|_, _| -> io::Result<usize> { panic!("called with nobody to read") })
        .unwrap_err();
    assert!(matches!(err, ProducerError::Closed));
    assert_eq!(err.to_string(), "pipe is closed");
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::BrokenPipe);
    let err = producer.write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    producer.set_blocking(true);
    let err = producer.write_all(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn invalid_counts_publish_nothing() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    let err = producer
        .io_slices(|bufs, len| {
            bufs[0].fill(9);
            Ok(len + 1)
        })
        .unwrap_err();
    assert!(matches!(err, ProducerError::InvalidCount { n, len } if n == cap + 1 && len == cap));
    assert_eq!(
        err.to_string(),
        format!(
            "callback filled {} bytes of the {cap} it was offered",
            cap + 1
        )
    );
    let io_err = io::Error::from(err);
    assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
    assert!(consumer.is_empty());
    assert_eq!(producer.free(), cap);

    producer.write_all(b"abc").unwrap();
    let err = consumer.io_slices(|_, _| Ok(4)).unwrap_err();
    assert!(matches!(err, ConsumerError::InvalidCount { n: 4, len: 3 }));
    assert_eq!(
        err.to_string(),
        "callback drained 4 bytes of the 3 it was offered"
    );
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::InvalidData);
    let err = consumer.slices(|_, _| Ok::<_, ()>(usize::MAX)).unwrap_err();
    assert_eq!(
        err,
        ConsumerError::InvalidCount {
            n: usize::MAX,
            len: 3
        }
    );
    assert_eq!(consumer.read_slice(), b"abc");
}

#[test]
fn callback_errors_pass_through_and_publish_nothing() {
    let (mut producer, mut consumer) = small();
    let err = producer
        .io_slices(|bufs, _| {
            bufs[0][0] = 1;
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "peer reset"))
        })
        .unwrap_err();
    assert_eq!(err.to_string(), "peer reset");
    assert!(err.source().is_none());
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::ConnectionReset);
    assert!(consumer.is_empty());

    producer.write_all(b"x").unwrap();
    let err = consumer
        .io_slices(|_, _| Err(io::Error::other("disk full")))
        .unwrap_err();
    assert!(matches!(&err, ConsumerError::Callback(e) if e.to_string() == "disk full"));
    assert_eq!(io::Error::from(err).kind(), io::ErrorKind::Other);
    assert_eq!(
        consumer.slices(|_, _| Err::<usize, _>("bad")),
        Err(ConsumerError::Callback("bad"))
    );
    assert_eq!(consumer.read_slice(), b"x");
}

#[test]
fn zero_counts_are_fine() {
    let (mut producer, mut consumer) = small();
    assert_eq!(producer.io_slices(|_, _| Ok(0)).unwrap(), 0);
    producer.write_all(b"ab").unwrap();
    assert_eq!(consumer.io_slices(|_, _| Ok(0)).unwrap(), 0);
    assert_eq!(consumer.read_slice(), b"ab");
    // Empty buffers are `Ok(0)` as std wants, full or empty pipe alike.
    assert_eq!(consumer.read(&mut []).unwrap(), 0);
    assert_eq!(producer.write(&[]).unwrap(), 0);
    producer.produce(0);
    consumer.consume(0);
}

#[test]
fn produce_and_consume_check_their_counts() {
    common::quiet_expected_panics(&["cannot produce", "cannot consume"]);
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    let r = panic::catch_unwind(AssertUnwindSafe(|| producer.produce(cap + 1)));
    let msg = common::panic_message(&*r.unwrap_err()).to_string();
    assert_eq!(
        msg,
        format!("cannot produce {} bytes: {cap} are free", cap + 1)
    );
    assert!(consumer.is_empty());

    producer.write_all(b"abc").unwrap();
    let r = panic::catch_unwind(AssertUnwindSafe(|| consumer.consume(4)));
    let msg = common::panic_message(&*r.unwrap_err()).to_string();
    assert_eq!(msg, "cannot consume 4 bytes: 3 are readable");
    let r = panic::catch_unwind(AssertUnwindSafe(|| BufRead::consume(&mut consumer, 4)));
    assert!(r.is_err());
    assert_eq!(consumer.read_slice(), b"abc");
}

#[test]
fn data_crosses_the_physical_end_intact() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    for offset in [1, cap / 2, cap - 1] {
        park(&mut producer, &mut consumer, offset);
        let data: Vec<u8> = (0..cap).map(|i| (i % 251) as u8).collect();
        // Fill through `write_slice`/`produce`, across the end.
        let free = producer.write_slice();
        assert_eq!(free.len(), cap);
        free.copy_from_slice(&data);
        producer.produce(cap);
        assert_eq!(consumer.read_slice(), &data[..]);
        // Drain through `fill_buf`, which shows everything as one slice.
        assert_eq!(consumer.fill_buf().unwrap(), &data[..]);
        consumer.consume(cap - 1);
        assert_eq!(consumer.read_slice(), &data[cap - 1..]);
        consumer.consume(1);
    }
}

#[test]
fn vectored_reads_and_writes() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    let n = producer
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cde")])
        .unwrap();
    assert_eq!(n, 5);
    let (mut a, mut b) = ([0; 3], [0; 8]);
    let n = consumer
        .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!((&a, &b[..2]), (b"abc", &b"de"[..]));
    // A vectored write into a nearly full pipe copies what fits, in order.
    producer.write_all(&vec![0; cap - 4]).unwrap();
    let n = producer
        .write_vectored(&[IoSlice::new(b"123"), IoSlice::new(b"456")])
        .unwrap();
    assert_eq!(n, 4);
    consumer.consume(cap - 4);
    assert_eq!(consumer.read_slice(), b"1234");
    producer.flush().unwrap();
}

#[test]
fn bufread_lines() {
    let (mut producer, consumer) = small();
    producer.write_all(b"one\ntwo\nthree").unwrap();
    producer.close();
    let lines: Vec<String> = consumer.lines().map(Result::unwrap).collect();
    assert_eq!(lines, ["one", "two", "three"]);
}

#[test]
fn debug_shows_the_state() {
    let (mut producer, consumer) = small();
    producer.set_blocking(true);
    let text = format!("{producer:?} {consumer:?}");
    assert!(text.starts_with("Producer { capacity: "), "{text}");
    assert!(text.contains("is_blocking: true"), "{text}");
    assert!(text.contains("Consumer { capacity: "), "{text}");
    assert!(format!("{:?}", Buffer::new(1, 1).unwrap()).starts_with("Buffer { capacity: "));
}

#[test]
fn blocking_mode_is_per_half() {
    let (mut producer, mut consumer) = small();
    assert!(!producer.is_blocking() && !consumer.is_blocking());
    producer.set_blocking(true);
    consumer.set_blocking(true);
    assert!(producer.is_blocking() && consumer.is_blocking());
}

/// Total bytes for the two-thread tests.
const STREAM: usize = if cfg!(miri) { 2_000 } else { 4_000_000 };

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 8)) as u8
}

#[test]
fn blocking_threads_move_a_stream_with_std_io() {
    let (mut producer, mut consumer) = small();
    producer.set_blocking(true);
    consumer.set_blocking(true);
    let writer = thread::spawn(move || {
        let data: Vec<u8> = (0..STREAM).map(pattern).collect();
        let mut rng = Rng(7);
        let mut sent = 0;
        while sent < STREAM {
            let n = (1 + rng.below(3000)).min(STREAM - sent);
            producer.write_all(&data[sent..sent + n]).unwrap();
            sent += n;
        }
    });
    let mut all = Vec::new();
    consumer.read_to_end(&mut all).unwrap();
    writer.join().unwrap();
    assert_eq!(all.len(), STREAM);
    assert!(all.iter().enumerate().all(|(i, &b)| b == pattern(i)));
}

#[test]
fn blocking_threads_move_a_stream_with_io_slices() {
    let (mut producer, mut consumer) = small();
    producer.set_blocking(true);
    consumer.set_blocking(true);
    let writer = thread::spawn(move || {
        let data: Vec<u8> = (0..STREAM).map(pattern).collect();
        let mut input = &data[..];
        loop {
            let n = producer
                .io_slices(|bufs, len| {
                    assert!(len > 0, "called with nothing to offer");
                    input.read_vectored(bufs)
                })
                .unwrap();
            if n == 0 {
                break;
            }
        }
        producer.close();
    });
    let mut output = Vec::new();
    loop {
        let n = consumer
            .io_slices(|bufs, len| {
                assert!(len > 0, "called with nothing to offer");
                // Take odd amounts so that the positions wander over the whole ring.
                output.write(&bufs[0][..len.min(777)])
            })
            .unwrap();
        if n == 0 {
            break;
        }
    }
    writer.join().unwrap();
    assert_eq!(output.len(), STREAM);
    assert!(output.iter().enumerate().all(|(i, &b)| b == pattern(i)));
}

#[test]
fn non_blocking_threads_spin_on_would_block() {
    let (mut producer, mut consumer) = small();
    let writer = thread::spawn(move || {
        let data: Vec<u8> = (0..STREAM).map(pattern).collect();
        let mut sent = 0;
        while sent < STREAM {
            match producer.write(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        }
    });
    let mut all = Vec::new();
    let mut buf = vec![0; 1000];
    loop {
        match consumer.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    writer.join().unwrap();
    assert_eq!(all.len(), STREAM);
    assert!(all.iter().enumerate().all(|(i, &b)| b == pattern(i)));
}

#[test]
#[cfg_attr(miri, ignore = "sleeps")]
fn blocking_write_waits_for_room() {
    let (mut producer, mut consumer) = small();
    let cap = producer.capacity();
    producer.set_blocking(true);
    producer.write_all(&vec![1; cap]).unwrap();
    let reader = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        consumer.consume(10);
        consumer
    });
    // Waits (rather than `WouldBlock`) until the reader frees 10 bytes.
    assert_eq!(producer.write(&[2; 20]).unwrap(), 10);
    let consumer = reader.join().unwrap();
    assert_eq!(&consumer.read_slice()[cap - 10..], &[2; 10]);
}

#[test]
#[cfg_attr(miri, ignore = "sleeps")]
fn blocking_waits_end_when_the_peer_leaves() {
    // A producer waiting for room learns that the consumer is gone.
    let (mut producer, consumer) = small();
    producer.set_blocking(true);
    producer.write_all(&vec![1; producer.capacity()]).unwrap();
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        drop(consumer);
    });
    let err = producer.io_slices(|_, len| Ok(len)).unwrap_err();
    assert!(matches!(err, ProducerError::Closed));
    dropper.join().unwrap();

    // A consumer waiting for bytes learns that the stream has ended.
    let (mut producer, mut consumer) = small();
    consumer.set_blocking(true);
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        producer.write_all(b"end").unwrap();
        producer.close();
        thread::sleep(Duration::from_millis(50));
    });
    let mut all = Vec::new();
    consumer.read_to_end(&mut all).unwrap();
    assert_eq!(all, b"end");
    assert_eq!(
        consumer
            .io_slices(|_, _| -> io::Result<usize> { panic!("called at the end") })
            .unwrap(),
        0
    );
    closer.join().unwrap();
}

/// Random writes and reads through every path, checked against a `VecDeque<u8>`.
#[test]
fn model_against_vecdeque() {
    let steps = if cfg!(miri) { 300 } else { 20_000 };
    for seed in 1..=if cfg!(miri) { 2 } else { 8 } {
        let (mut producer, mut consumer) = small();
        let cap = producer.capacity();
        let mut model = VecDeque::<u8>::new();
        let mut rng = Rng(seed);
        let mut next = 0u8;
        let mut bytes = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect()
        };
        for _ in 0..steps {
            let want = rng.below(cap + cap / 4) + 1;
            match rng.below(8) {
                0 => {
                    let data = bytes(want);
                    match producer.write(&data) {
                        Ok(n) => model.extend(&data[..n]),
                        Err(e) => {
                            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                            assert_eq!(model.len(), cap);
                        }
                    }
                }
                1 => {
                    let r = producer.io_slices(|bufs, len| {
                        assert_eq!(len, cap - model.len());
                        let n = want.min(len);
                        let data = bytes(n);
                        bufs[0][..n].copy_from_slice(&data);
                        model.extend(&data);
                        Ok(n)
                    });
                    match r {
                        Ok(n) => assert!(n <= want),
                        Err(e) => {
                            assert!(matches!(e, ProducerError::Full));
                            assert_eq!(model.len(), cap);
                        }
                    }
                }
                2 => {
                    let free = producer.write_slice();
                    assert_eq!(free.len(), cap - model.len());
                    let n = want.min(free.len());
                    let data = bytes(n);
                    free[..n].copy_from_slice(&data);
                    producer.produce(n);
                    model.extend(&data);
                }
                3 => {
                    let mut buf = vec![0; want];
                    match consumer.read(&mut buf) {
                        Ok(n) => {
                            assert!(n > 0);
                            let expected: Vec<u8> = model.drain(..n).collect();
                            assert_eq!(&buf[..n], &expected[..]);
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                            assert!(model.is_empty());
                        }
                    }
                }
                4 => {
                    let r = consumer.io_slices(|bufs, len| {
                        assert_eq!(len, model.len());
                        assert!(bufs[0].iter().eq(model.iter()));
                        Ok(want.min(len))
                    });
                    match r {
                        Ok(n) => {
                            model.drain(..n);
                        }
                        Err(e) => {
                            assert!(matches!(e, ConsumerError::Empty));
                            assert!(model.is_empty());
                        }
                    }
                }
                5 => {
                    let slice = consumer.read_slice();
                    assert!(slice.iter().eq(model.iter()));
                    let n = want.min(slice.len());
                    consumer.consume(n);
                    model.drain(..n);
                }
                6 => {
                    let mut a = vec![0; want / 2];
                    let mut b = vec![0; want - want / 2];
                    let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
                    match consumer.read_vectored(&mut bufs) {
                        Ok(n) => {
                            let expected: Vec<u8> = model.drain(..n).collect();
                            let got: Vec<u8> = a.iter().chain(&b).take(n).copied().collect();
                            assert_eq!(got, expected);
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                            assert!(model.is_empty());
                        }
                    }
                }
                _ => {
                    assert_eq!(producer.len(), model.len());
                    assert_eq!(consumer.len(), model.len());
                    assert_eq!(producer.free(), cap - model.len());
                    assert_eq!(consumer.is_empty(), model.is_empty());
                    assert_eq!(producer.is_full(), model.len() == cap);
                }
            }
        }
        // Close, then drain: exactly the model's bytes, then the end.
        producer.close();
        let mut rest = Vec::new();
        consumer.read_to_end(&mut rest).unwrap();
        assert!(rest.iter().eq(model.iter()));
    }
}
