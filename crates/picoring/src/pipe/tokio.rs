//! tokio's `AsyncWrite` for the producer, `AsyncRead` and `AsyncBufRead` for the consumer.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

use super::{Consumer, Producer};

/// Writes wait for room without blocking the thread; after the consumer is gone they fail
/// with [`BrokenPipe`](io::ErrorKind::BrokenPipe). `poll_shutdown` [closes](Producer::close)
/// the producer.
///
/// # Examples
///
/// ```
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (mut producer, mut consumer) = picoring::pipe::new(4096, 1).unwrap();
/// let writer = async move {
///     for _ in 0..100 {
///         producer.write_all(&[7; 1000]).await.unwrap();
///     }
///     producer.shutdown().await.unwrap();
/// };
/// let reader = async move {
///     let mut all = Vec::new();
///     consumer.read_to_end(&mut all).await.unwrap();
///     all
/// };
/// let ((), all) = tokio::join!(writer, reader);
/// assert_eq!(all, vec![7; 100_000]);
/// # });
/// ```
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

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().close();
        Poll::Ready(Ok(()))
    }
}

/// Reads wait for bytes without blocking the thread, and read nothing (the end of the
/// stream) once the producer is closed and every byte was read.
impl AsyncRead for Consumer {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        if this.poll_ready(cx).is_pending() {
            return Poll::Pending;
        }
        let src = this.read_slice();
        let n = src.len().min(buf.remaining());
        buf.put_slice(&src[..n]);
        this.consume(n);
        Poll::Ready(Ok(()))
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
