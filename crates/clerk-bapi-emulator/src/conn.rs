//! Connections that a fault (or shutdown) can kill: the `drop`/`reset` faults need to close a
//! TCP connection from inside a request handler, and `hang` must not keep shutdown waiting.
//!
//! [`EmulatorListener`] wraps every accepted socket in a [`KillableIo`] sharing an
//! `Arc<KillSwitch>` with the request handlers (a [`ConnHandle`] in each request's extensions).
//! Once killed, every read/write fails, so hyper abandons the connection; on drop the socket is
//! closed with `SO_LINGER=0`, i.e. a TCP reset.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Shared kill flag of one connection, plus the wakers of its pending read/write so a kill takes
/// effect even while hyper is parked on the socket.
#[derive(Debug, Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    wakers: Mutex<[Option<Waker>; 2]>,
}

const READ: usize = 0;
const WRITE: usize = 1;

impl KillSwitch {
    /// Kills the connection: all further I/O fails and the socket is reset when dropped.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|p| p.into_inner()));
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    fn register(&self, slot: usize, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = wakers.get_mut(slot) {
            *w = Some(waker.clone());
        }
    }
}

/// The request handlers' view of their connection (inserted into every request's extensions).
#[derive(Debug, Clone)]
pub struct ConnHandle(pub Arc<KillSwitch>);

/// Most simultaneous connections; further ones are closed at once (hanging requests hold theirs).
pub const MAX_CONNECTIONS: usize = 4096;

/// All live connections, so shutdown can kill the ones that do not finish gracefully.
#[derive(Debug, Default)]
pub struct ConnRegistry {
    conns: Mutex<Vec<Weak<KillSwitch>>>,
}

impl ConnRegistry {
    /// Registers a connection; `false` when [`MAX_CONNECTIONS`] are already open.
    fn add(&self, switch: &Arc<KillSwitch>) -> bool {
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        // Prune closed connections so the list is bounded by the number of live ones.
        conns.retain(|w| w.strong_count() > 0);
        if conns.len() >= MAX_CONNECTIONS {
            return false;
        }
        conns.push(Arc::downgrade(switch));
        true
    }

    /// Kills every live connection.
    pub fn kill_all(&self) {
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()));
        for switch in conns.iter().filter_map(Weak::upgrade) {
            switch.kill();
        }
    }

    /// Number of connections still open.
    pub fn live(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).iter().filter(|w| w.strong_count() > 0).count()
    }
}

/// A TCP stream whose I/O fails once its [`KillSwitch`] is thrown.
#[derive(Debug)]
pub struct KillableIo {
    stream: TcpStream,
    switch: Arc<KillSwitch>,
}

fn killed_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "connection killed by the emulator")
}

impl KillableIo {
    /// The handle request handlers use to kill this connection.
    pub fn handle(&self) -> ConnHandle {
        ConnHandle(self.switch.clone())
    }

    /// Polls `op` unless killed; parks the waker in `slot` when the socket is not ready.
    fn guard<T>(&mut self, slot: usize, cx: &mut Context<'_>, op: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if self.switch.is_killed() {
            return Poll::Ready(Err(killed_error()));
        }
        match op(Pin::new(&mut self.stream), cx) {
            Poll::Pending => {
                self.switch.register(slot, cx.waker());
                // A kill between the poll and the registration must not be missed.
                if self.switch.is_killed() {
                    Poll::Ready(Err(killed_error()))
                } else {
                    Poll::Pending
                }
            }
            ready => ready,
        }
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(READ, cx, |s, cx| s.poll_read(cx, buf))
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().guard(WRITE, cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(WRITE, cx, |s, cx| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().guard(WRITE, cx, |s, cx| s.poll_shutdown(cx))
    }
}

impl Drop for KillableIo {
    fn drop(&mut self) {
        if self.switch.is_killed() {
            // Linger 0 turns the close into a TCP RST (an abortive close; never blocks).
            let _ = self.stream.set_zero_linger();
        }
    }
}

/// The emulator's listener: a tokio `TcpListener` producing [`KillableIo`] connections.
#[derive(Debug)]
pub struct EmulatorListener {
    inner: TcpListener,
    registry: Arc<ConnRegistry>,
}

impl EmulatorListener {
    pub fn new(inner: TcpListener, registry: Arc<ConnRegistry>) -> EmulatorListener {
        EmulatorListener { inner, registry }
    }

    /// The next connection (connection errors are retried; at capacity, connections are closed).
    pub async fn accept(&mut self) -> (KillableIo, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let switch = Arc::new(KillSwitch::default());
                    if self.registry.add(&switch) {
                        return (KillableIo { stream, switch }, addr);
                    }
                    // Over capacity: dropping the stream closes it.
                }
                // Per-connection errors (reset before accept) are retried at once; resource errors
                // (EMFILE) get a pause so the loop does not spin.
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    #[cfg(test)]
    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn pair() -> (KillableIo, TcpStream, Arc<ConnRegistry>) {
        let registry = Arc::new(ConnRegistry::default());
        let mut listener = EmulatorListener::new(TcpListener::bind("127.0.0.1:0").await.unwrap(), registry.clone());
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (io, _) = listener.accept().await;
        (io, client.await.unwrap(), registry)
    }

    #[tokio::test]
    async fn io_passes_through_until_killed() {
        let (mut server, mut client, registry) = pair().await;
        assert_eq!(registry.live(), 1);
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
        server.switch.kill();
        assert!(server.write_all(b"x").await.is_err());
        assert!(server.read(&mut buf).await.is_err());
        drop(server);
        // The peer sees a reset (or at worst EOF), never data.
        let mut rest = Vec::new();
        let r = client.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
        if let Err(e) = r {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        }
        assert_eq!(registry.live(), 0);
    }

    #[test]
    fn registry_is_capped() {
        let registry = ConnRegistry::default();
        let held: Vec<Arc<KillSwitch>> = (0..MAX_CONNECTIONS).map(|_| Arc::new(KillSwitch::default())).collect();
        assert!(held.iter().all(|s| registry.add(s)));
        let extra = Arc::new(KillSwitch::default());
        assert!(!registry.add(&extra));
        drop(held);
        assert!(registry.add(&extra));
        assert_eq!(registry.live(), 1);
    }

    #[tokio::test]
    async fn kill_wakes_a_parked_reader() {
        let (mut server, _client, registry) = pair().await;
        let switch = server.switch.clone();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 1];
            server.read(&mut buf).await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!reader.is_finished());
        registry.kill_all();
        let result = tokio::time::timeout(Duration::from_secs(2), reader).await.unwrap().unwrap();
        assert!(result.is_err());
        assert!(switch.is_killed());
    }
}
