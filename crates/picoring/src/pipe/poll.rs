//! The waiting shared by the async traits (tokio's and the `futures` ones): poll, and
//! register the task with the pipe's event until the poll can succeed.

#[cfg(feature = "futures-io")]
use std::io::IoSliceMut;
use std::io::{self, IoSlice};
use std::task::{Context, Poll};

use super::{Consumer, Producer};

/// The waiting of the async traits.
impl Producer {
    /// Copies what fits of `bufs` once a byte is free, registering the task until then.
    pub(super) fn poll_write_bufs(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            match self.write_bufs(bufs, false) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
            match self.inner.poll_vacant(cx, &mut self.key) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }
}

/// The waiting of the async traits.
impl Consumer {
    /// The number of readable bytes once it is not zero, or 0 at the end of the stream,
    /// registering the task until then.
    pub(super) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<usize> {
        loop {
            if let Ok(len) = self.ready::<()>(false) {
                return Poll::Ready(len);
            }
            if self.inner.poll_items(cx, &mut self.key).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Copies readable bytes into `bufs` once some are (nothing at the end of the stream),
    /// registering the task until then.
    #[cfg(feature = "futures-io")]
    pub(super) fn poll_read_bufs(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<usize> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(0);
        }
        match self.poll_ready(cx) {
            Poll::Ready(0) => Poll::Ready(0),
            Poll::Ready(_) => Poll::Ready(self.copy_out(bufs)),
            Poll::Pending => Poll::Pending,
        }
    }
}
