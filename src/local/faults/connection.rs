//! Connections an injected fault can cut.
//!
//! axum answers every request with a response; a `drop` fault needs the opposite: the client
//! must see its connection close with no reply at all. So the service listens through
//! [`CuttableListener`], whose streams carry a switch. A request reaches its switch through
//! axum's `ConnectInfo` ([`Connection`]); once thrown, every read and write of the stream fails,
//! so hyper writes nothing more and closes the connection: the client's request fails with
//! "connection closed before message completed", and no status line ever reaches it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Pause after a failed `accept` that is not about one connection (too many open files, say),
/// so the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A TCP listener whose connections can be cut by the requests they carry.
#[derive(Debug)]
pub(crate) struct CuttableListener {
    /// The bound socket.
    inner: TcpListener,
}

impl CuttableListener {
    /// Serves connections accepted on `inner`.
    pub(crate) fn new(inner: TcpListener) -> Self {
        Self { inner }
    }
}

impl Listener for CuttableListener {
    type Io = CuttableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    let stream = CuttableStream {
                        inner: stream,
                        cut: Arc::default(),
                    };
                    return (stream, peer);
                }
                // The peer gave up before we accepted: nothing to wait for.
                Err(error) if is_about_one_connection(&error) => {}
                Err(error) => {
                    tracing::error!(%error, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

fn is_about_one_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}

/// An accepted TCP stream that fails every operation once its switch is thrown.
#[derive(Debug)]
pub(crate) struct CuttableStream {
    /// The connection itself.
    inner: TcpStream,
    /// Thrown by [`Connection::cut`]; shared with the requests of this connection.
    cut: Arc<AtomicBool>,
}

impl CuttableStream {
    /// The error every operation returns once cut, or `None` while the connection lives.
    fn cut_error(&self) -> Option<io::Error> {
        self.cut.load(Ordering::Acquire).then(|| {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "connection cut by an injected fault",
            )
        })
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(error) = self.cut_error() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.cut_error() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.cut_error() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.cut_error() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.cut_error() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request's handle on the connection that carries it (its `ConnectInfo`).
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    /// The switch of the connection's [`CuttableStream`].
    cut: Arc<AtomicBool>,
}

impl Connection {
    /// Cuts the connection: nothing more is read or written, and hyper closes it.
    pub(crate) fn cut(&self) {
        self.cut.store(true, Ordering::Release);
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        Self {
            cut: Arc::clone(&stream.io().cut),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn cut_stream_fails_reads_and_writes() {
        let bound = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = bound.local_addr().unwrap();
        let mut listener = CuttableListener::new(bound);
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut served, _) = Listener::accept(&mut listener).await;
        let connection = Connection {
            cut: Arc::clone(&served.cut),
        };

        served.write_all(b"before").await.unwrap();
        let mut seen = [0u8; 6];
        client.read_exact(&mut seen).await.unwrap();
        assert_eq!(&seen, b"before");

        connection.cut();
        let error = served.write_all(b"after").await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted);
        let mut buffer = [0u8; 1];
        assert!(served.read(&mut buffer).await.is_err());
        drop(served);
        assert_eq!(
            client.read(&mut buffer).await.unwrap(),
            0,
            "nothing after the cut"
        );
    }
}
