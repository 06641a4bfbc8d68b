//! Hand-written streaming response bodies for the `slow_drip`, `oversized` and `reset` faults.
//! Each reports an exact size up front, so hyper sends a `Content-Length` the client trusts.

use crate::conn::KillSwitch;
use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Sleep;

type FramePoll = Poll<Option<Result<Frame<Bytes>, io::Error>>>;

/// Sends `data` `chunk` bytes at a time with `interval` pauses (the first chunk at once).
/// Aborts (connection closed) once the emulator is shutting down.
pub struct DripBody {
    data: Bytes,
    chunk: usize,
    interval: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    shutdown: watch::Receiver<bool>,
}

impl DripBody {
    pub fn new(data: Bytes, chunk: usize, interval: Duration, shutdown: watch::Receiver<bool>) -> DripBody {
        DripBody { data, chunk: chunk.max(1), interval, sleep: None, shutdown }
    }
}

impl Body for DripBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> FramePoll {
        let this = self.get_mut();
        if this.data.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(sleep) = this.sleep.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        // Checked after each pause (the sleep wakes us), so shutdown waits at most one interval.
        if *this.shutdown.borrow() {
            return Poll::Ready(Some(Err(io::Error::other("emulator shutting down"))));
        }
        let part = this.data.split_to(this.chunk.min(this.data.len()));
        this.sleep = Some(Box::pin(tokio::time::sleep(this.interval)));
        Poll::Ready(Some(Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.len() as u64)
    }
}

/// Exactly `total` bytes generated on the fly: `{"padding":"xxx…"}` when `total` ≥ 14 (valid
/// JSON, so a client that does not cap body size will parse it), otherwise `total` × `x`.
pub struct OversizedBody {
    total: u64,
    sent: u64,
}

const PADDING_PREFIX: &[u8] = br#"{"padding":""#;
const PADDING_SUFFIX: &[u8] = br#""}"#;
const OVERSIZED_CHUNK: u64 = 64 * 1024;

impl OversizedBody {
    pub fn new(total: u64) -> OversizedBody {
        OversizedBody { total, sent: 0 }
    }

    fn byte_at(&self, pos: u64) -> u8 {
        let framed = self.total >= (PADDING_PREFIX.len() + PADDING_SUFFIX.len()) as u64;
        let suffix_start = self.total.saturating_sub(PADDING_SUFFIX.len() as u64);
        if framed && pos < PADDING_PREFIX.len() as u64 {
            PADDING_PREFIX.get(usize::try_from(pos).unwrap_or(0)).copied().unwrap_or(b'x')
        } else if framed && pos >= suffix_start {
            PADDING_SUFFIX.get(usize::try_from(pos - suffix_start).unwrap_or(0)).copied().unwrap_or(b'x')
        } else {
            b'x'
        }
    }
}

impl Body for OversizedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> FramePoll {
        let this = self.get_mut();
        let remaining = this.total.saturating_sub(this.sent);
        if remaining == 0 {
            return Poll::Ready(None);
        }
        let len = remaining.min(OVERSIZED_CHUNK);
        let chunk: Vec<u8> = (this.sent..this.sent + len).map(|p| this.byte_at(p)).collect();
        this.sent += len;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.total
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total.saturating_sub(self.sent))
    }
}

/// Announces `full_len` bytes, sends `prefix`, waits briefly so hyper flushes it, then kills the
/// connection (TCP reset) and fails, leaving the client with a truncated message.
pub struct ResetBody {
    prefix: Option<Bytes>,
    full_len: u64,
    sleep: Option<Pin<Box<Sleep>>>,
    kill: Option<Arc<KillSwitch>>,
}

/// Pause between the last bytes sent and the reset, so they reach the client first.
const RESET_FLUSH_PAUSE: Duration = Duration::from_millis(100);

impl ResetBody {
    pub fn new(prefix: Bytes, full_len: u64, kill: Option<Arc<KillSwitch>>) -> ResetBody {
        ResetBody { prefix: Some(prefix).filter(|p| !p.is_empty()), full_len, sleep: None, kill }
    }
}

impl Body for ResetBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> FramePoll {
        let this = self.get_mut();
        if let Some(prefix) = this.prefix.take() {
            this.full_len = this.full_len.saturating_sub(prefix.len() as u64);
            return Poll::Ready(Some(Ok(Frame::data(prefix))));
        }
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(RESET_FLUSH_PAUSE)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(kill) = this.kill.take() {
            kill.kill();
        }
        Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::ConnectionReset, "emulated reset"))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.full_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    async fn next(body: &mut (impl Body<Data = Bytes, Error = io::Error> + Unpin)) -> Option<Result<Bytes, io::Error>> {
        poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await.map(|r| r.map(|f| f.into_data().unwrap_or_default()))
    }

    #[tokio::test]
    async fn drip_sends_chunks_with_pauses() {
        let (_tx, rx) = watch::channel(false);
        let mut body = DripBody::new(Bytes::from_static(b"abcdefg"), 3, Duration::from_millis(30), rx);
        assert_eq!(body.size_hint().exact(), Some(7));
        let start = tokio::time::Instant::now();
        let mut parts = Vec::new();
        while let Some(p) = next(&mut body).await {
            parts.push(p.unwrap());
        }
        assert_eq!(parts, [Bytes::from_static(b"abc"), Bytes::from_static(b"def"), Bytes::from_static(b"g")]);
        assert!(start.elapsed() >= Duration::from_millis(60));
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn drip_aborts_on_shutdown() {
        let (tx, rx) = watch::channel(false);
        let mut body = DripBody::new(Bytes::from_static(b"abcdef"), 1, Duration::from_millis(10), rx);
        assert!(next(&mut body).await.unwrap().is_ok());
        tx.send(true).unwrap();
        assert!(next(&mut body).await.unwrap().is_err());
    }

    #[tokio::test]
    async fn oversized_is_exact_and_json_when_possible() {
        for total in [0u64, 1, 13, 14, 15, 100_000, 200_003] {
            let mut body = OversizedBody::new(total);
            assert_eq!(body.size_hint().exact(), Some(total));
            let mut all = Vec::new();
            while let Some(p) = next(&mut body).await {
                all.extend_from_slice(&p.unwrap());
            }
            assert_eq!(all.len() as u64, total);
            if total >= 14 {
                let v: serde_json::Value = serde_json::from_slice(&all).unwrap();
                assert_eq!(v["padding"].as_str().unwrap().len() as u64, total - 14);
            } else {
                assert!(all.iter().all(|b| *b == b'x'));
            }
        }
    }

    #[tokio::test]
    async fn reset_sends_prefix_then_kills() {
        let switch = Arc::new(KillSwitch::default());
        let mut body = ResetBody::new(Bytes::from_static(b"{\"id"), 20, Some(switch.clone()));
        assert_eq!(body.size_hint().exact(), Some(20));
        assert_eq!(next(&mut body).await.unwrap().unwrap(), Bytes::from_static(b"{\"id"));
        assert!(!switch.is_killed());
        assert!(next(&mut body).await.unwrap().is_err());
        assert!(switch.is_killed());
        // Empty prefix: straight to the reset.
        let mut body = ResetBody::new(Bytes::new(), 5, None);
        assert!(next(&mut body).await.unwrap().is_err());
    }
}
