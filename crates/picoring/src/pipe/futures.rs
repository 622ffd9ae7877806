//! The `futures` I/O traits: `AsyncWrite` for the producer, `AsyncRead` and `AsyncBufRead`
//! for the consumer.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::{Consumer, Producer};

/// Writes wait for room without blocking the thread; after the consumer is gone they fail
/// with [`BrokenPipe`](io::ErrorKind::BrokenPipe). `poll_close` [closes](Producer::close)
/// the producer.
impl AsyncWrite for Producer {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bufs(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_bufs(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

/// Reads wait for bytes without blocking the thread, and return `0` (the end of the stream)
/// once the producer is closed and every byte was read.
impl AsyncRead for Consumer {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_read_bufs(cx, &mut [IoSliceMut::new(buf)])
            .map(Ok)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_bufs(cx, bufs).map(Ok)
    }
}

/// `poll_fill_buf` returns every readable byte as one slice, empty at the end of the stream.
impl AsyncBufRead for Consumer {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        match this.poll_ready(cx) {
            Poll::Ready(_) => Poll::Ready(Ok(this.read_slice())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume(amt);
    }
}
