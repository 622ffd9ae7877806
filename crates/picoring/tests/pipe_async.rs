//! The async traits of `picoring::pipe`: tokio's over real Unix sockets, and the `futures`
//! ones with a small thread-parking executor.

#![cfg(any(feature = "tokio", feature = "futures-io"))]
#![cfg(unix)]

use picoring::pipe;

const STREAM: usize = if cfg!(miri) { 10_000 } else { 8 << 20 };

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(131) ^ (i >> 10)) as u8
}

#[cfg(feature = "tokio")]
mod tokio_traits {
    use super::*;
    use std::io;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixStream;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// socket -> producer -> ring -> consumer -> socket, with `tokio::io::copy`/`copy_buf`.
    #[test]
    fn socket_to_pipe_to_socket() {
        runtime().block_on(async {
            let (mut source, source_peer) = UnixStream::pair().unwrap();
            let (sink_peer, mut sink) = UnixStream::pair().unwrap();
            // The smallest ring, so that both sides wait on each other often.
            let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();

            let feeder = tokio::spawn(async move {
                let data: Vec<u8> = (0..STREAM).map(pattern).collect();
                source.write_all(&data).await.unwrap();
                source.shutdown().await.unwrap();
            });
            let inbound = tokio::spawn(async move {
                let mut source_peer = source_peer;
                let n = tokio::io::copy(&mut source_peer, &mut producer)
                    .await
                    .unwrap();
                producer.shutdown().await.unwrap();
                n
            });
            let outbound = tokio::spawn(async move {
                let mut sink_peer = sink_peer;
                let n = tokio::io::copy_buf(&mut consumer, &mut sink_peer)
                    .await
                    .unwrap();
                sink_peer.shutdown().await.unwrap();
                n
            });
            let mut all = Vec::new();
            sink.read_to_end(&mut all).await.unwrap();
            feeder.await.unwrap();
            assert_eq!(inbound.await.unwrap(), STREAM as u64);
            assert_eq!(outbound.await.unwrap(), STREAM as u64);
            assert_eq!(all.len(), STREAM);
            assert!(all.iter().enumerate().all(|(i, &b)| b == pattern(i)));
        });
    }

    #[test]
    fn read_waits_for_bytes_then_sees_the_end() {
        runtime().block_on(async {
            let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();
            let writer = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                producer.write_all(b"late\nlines\n").await.unwrap();
                tokio::time::sleep(Duration::from_millis(30)).await;
                producer.write_all(b"last").await.unwrap();
                producer.shutdown().await.unwrap();
                // Writing after shutdown is refused.
                producer.write(b"x").await.unwrap_err().kind()
            });
            let mut line = String::new();
            consumer.read_line(&mut line).await.unwrap();
            assert_eq!(line, "late\n");
            let mut rest = String::new();
            consumer.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "lines\nlast");
            assert_eq!(consumer.read(&mut [0; 4]).await.unwrap(), 0);
            assert!(consumer.fill_buf().await.unwrap().is_empty());
            assert_eq!(writer.await.unwrap(), io::ErrorKind::BrokenPipe);
        });
    }

    #[test]
    fn write_waits_for_room_then_sees_the_consumer_leave() {
        runtime().block_on(async {
            let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();
            let cap = producer.capacity();
            producer.write_all(&vec![1; cap]).await.unwrap();
            let reader = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let mut buf = vec![0; 100];
                consumer.read_exact(&mut buf).await.unwrap();
                tokio::time::sleep(Duration::from_millis(30)).await;
                drop(consumer);
            });
            // Pending until the reader frees 100 bytes.
            assert_eq!(producer.write(&[2; 200]).await.unwrap(), 100);
            // Pending until the reader is gone, then a broken pipe.
            let err = producer.write_all(&[3; 10]).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            reader.await.unwrap();
        });
    }

    #[test]
    fn a_half_dropped_while_registered_cancels_its_registration() {
        runtime().block_on(async {
            let (producer, mut consumer) = pipe::new(1, 1).unwrap();
            let r = tokio::time::timeout(Duration::from_millis(20), consumer.read_u8()).await;
            assert!(r.is_err(), "nothing was written");
            drop(consumer);
            drop(producer);
        });
    }

    #[test]
    fn vectored_writes() {
        runtime().block_on(async {
            let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();
            assert!(tokio::io::AsyncWrite::is_write_vectored(&producer));
            let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
            assert_eq!(producer.write_vectored(&bufs).await.unwrap(), 4);
            producer.flush().await.unwrap();
            drop(producer);
            let mut all = Vec::new();
            consumer.read_to_end(&mut all).await.unwrap();
            assert_eq!(all, b"abcd");
        });
    }
}

#[cfg(feature = "futures-io")]
mod futures_traits {
    use super::*;
    use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
    use std::future::Future;
    use std::io::{self, IoSliceMut};
    use std::pin::{Pin, pin};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread;

    /// Wakes a parked thread.
    struct Unpark(thread::Thread);

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Runs `f` to completion on this thread, parking while it is pending; counts the polls.
    fn block_on<F: Future>(f: F) -> (F::Output, usize) {
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        let mut polls = 0;
        loop {
            polls += 1;
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return (v, polls);
            }
            thread::park();
        }
    }

    /// A future that polls `f` until it is ready.
    fn poll_fn<T>(f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> impl Future<Output = T> {
        std::future::poll_fn(f)
    }

    #[test]
    fn threads_move_a_stream() {
        let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();
        let writer = thread::spawn(move || {
            let data: Vec<u8> = (0..STREAM).map(pattern).collect();
            let mut sent = 0;
            let mut total_polls = 0;
            while sent < STREAM {
                let end = (sent + 3000).min(STREAM);
                let (n, polls) = block_on(poll_fn(|cx| {
                    Pin::new(&mut producer).poll_write(cx, &data[sent..end])
                }));
                sent += n.unwrap();
                total_polls += polls;
            }
            let (r, _) = block_on(poll_fn(|cx| Pin::new(&mut producer).poll_flush(cx)));
            r.unwrap();
            let (r, _) = block_on(poll_fn(|cx| Pin::new(&mut producer).poll_close(cx)));
            r.unwrap();
            total_polls
        });
        let mut all = Vec::new();
        let mut buf = [0; 1000];
        loop {
            let (n, _) = block_on(poll_fn(|cx| {
                Pin::new(&mut consumer).poll_read(cx, &mut buf)
            }));
            let n = n.unwrap();
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        writer.join().unwrap();
        assert_eq!(all.len(), STREAM);
        assert!(all.iter().enumerate().all(|(i, &b)| b == pattern(i)));
    }

    #[test]
    fn buf_read_and_vectored_read() {
        let (mut producer, mut consumer) = pipe::new(1, 1).unwrap();
        let writer = thread::spawn(move || {
            let (r, _) = block_on(poll_fn(|cx| {
                Pin::new(&mut producer).poll_write(cx, b"hello")
            }));
            assert_eq!(r.unwrap(), 5);
            producer
        });
        // `poll_fill_buf` waits for bytes.
        let (r, _) = block_on(poll_fn(|cx| {
            Pin::new(&mut consumer)
                .poll_fill_buf(cx)
                .map_ok(|b| b.to_vec())
        }));
        assert_eq!(r.unwrap(), b"hello");
        Pin::new(&mut consumer).consume(2);
        let mut producer = writer.join().unwrap();
        let (mut a, mut b) = ([0; 2], [0; 8]);
        let (r, _) = block_on(poll_fn(|cx| {
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            Pin::new(&mut consumer).poll_read_vectored(cx, &mut bufs)
        }));
        assert_eq!(r.unwrap(), 3);
        assert_eq!((&a, &b[..1]), (b"ll", &b"o"[..]));
        // After the close and the drain: the end, at once.
        let (r, _) = block_on(poll_fn(|cx| Pin::new(&mut producer).poll_close(cx)));
        r.unwrap();
        let (r, polls) = block_on(poll_fn(|cx| Pin::new(&mut consumer).poll_read(cx, &mut a)));
        assert_eq!((r.unwrap(), polls), (0, 1));
    }

    #[test]
    fn write_to_a_dropped_consumer_is_broken_pipe() {
        let (mut producer, consumer) = pipe::new(1, 1).unwrap();
        let cap = producer.capacity();
        let (r, _) = block_on(poll_fn(|cx| {
            Pin::new(&mut producer).poll_write(cx, &vec![0; cap])
        }));
        assert_eq!(r.unwrap(), cap);
        let dropper = thread::spawn(move || {
            thread::sleep(std::time::Duration::from_millis(if cfg!(miri) {
                1
            } else {
                30
            }));
            drop(consumer);
        });
        // Pending (the pipe is full) until the consumer is dropped.
        let (r, polls) = block_on(poll_fn(|cx| Pin::new(&mut producer).poll_write(cx, b"x")));
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert!(polls >= 1);
        dropper.join().unwrap();
    }
}
