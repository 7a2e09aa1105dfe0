//! The write side of a WebSocket connection, owned by us rather than by
//! tungstenite: server frames are never masked (RFC 6455 §5.1), so a frame
//! is its header and its payload, and a room frame's bytes are the same for
//! every session of a codec. The room hub writes those bytes straight to a
//! session's socket ([`super::outbox::Outbox::offer`]); the session task
//! writes what had to wait, through the same framing. tungstenite keeps the
//! read side: [`WireIo`] hands it the socket to read and turns what it
//! writes (the pong to a client's ping, the reply to a client's close) into
//! raw bytes queued in the outbox, so even those go through the one writer.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use super::outbox::Outbox;

/// Opcodes of the frames the server sends (RFC 6455 §5.2), with FIN set.
const TEXT: u8 = 0x81;
const BINARY: u8 = 0x82;
const CLOSE: u8 = 0x88;
const PING: u8 = 0x89;
const PONG: u8 = 0x8A;

/// The header of an unmasked, final frame with `opcode` and a payload of
/// `len` bytes: 2, 4 or 10 bytes (RFC 6455 §5.2, shortest length form).
pub fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut h = [0u8; 10];
    h[0] = opcode;
    if len < 126 {
        h[1] = len as u8;
        (h, 2)
    } else if len <= usize::from(u16::MAX) {
        h[1] = 126;
        h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        (h, 4)
    } else {
        h[1] = 127;
        h[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (h, 10)
    }
}

/// A message's opcode and payload as they go on the wire.
fn parts(msg: &Message) -> Option<(u8, Bytes)> {
    Some(match msg {
        Message::Text(t) => (TEXT, Bytes::from(t.clone())),
        Message::Binary(b) => (BINARY, b.clone()),
        Message::Ping(p) => (PING, p.clone()),
        Message::Pong(p) => (PONG, p.clone()),
        Message::Close(None) => (CLOSE, Bytes::new()),
        Message::Close(Some(c)) => {
            let mut p = BytesMut::with_capacity(2 + c.reason.len());
            p.put_u16(c.code.into());
            p.put_slice(c.reason.as_bytes());
            (CLOSE, p.freeze())
        }
        // Raw frames are tungstenite's own; the gateway never builds one.
        Message::Frame(_) => return None,
    })
}

/// The whole frame of `msg` in one buffer (header and payload): what the
/// hub encodes once per tick and codec and writes to every session.
pub fn frame(msg: &Message) -> Bytes {
    let Some((opcode, payload)) = parts(msg) else {
        return Bytes::new();
    };
    let (h, n) = header(opcode, payload.len());
    let mut out = BytesMut::with_capacity(n + payload.len());
    out.put_slice(&h[..n]);
    out.put_slice(&payload);
    out.freeze()
}

/// Appends `msg`'s frame to `bufs` as two buffers, header and payload,
/// without copying the payload (for a vectored write).
pub fn push_frame(bufs: &mut Vec<Bytes>, msg: &Message) {
    if let Some((opcode, payload)) = parts(msg) {
        let (h, n) = header(opcode, payload.len());
        bufs.push(Bytes::copy_from_slice(&h[..n]));
        if !payload.is_empty() {
            bufs.push(payload);
        }
    }
}

/// How many buffers one vectored write passes (Linux's `UIO_MAXIOV` is
/// 1024; a tick rarely queues more than a few).
const MAX_SLICES: usize = 64;

/// Writes what it can of `bufs` without waiting: drops what was written
/// from the front of `bufs` (cutting a partly written buffer) and returns
/// whether everything went. `WouldBlock` is not an error: nothing more fits.
pub fn try_write_all(sock: &TcpStream, bufs: &mut Vec<Bytes>) -> io::Result<bool> {
    // An empty buffer would make a write of nothing look like a closed socket.
    bufs.retain(|b| !b.is_empty());
    while !bufs.is_empty() {
        let slices: Vec<IoSlice<'_>> = bufs
            .iter()
            .take(MAX_SLICES)
            .map(|b| IoSlice::new(b))
            .collect();
        let written = match sock.try_write_vectored(&slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        };
        drop(slices);
        advance(bufs, written);
    }
    Ok(true)
}

/// Drops `n` written bytes from the front of `bufs`.
fn advance(bufs: &mut Vec<Bytes>, mut n: usize) {
    let mut done = 0;
    for b in bufs.iter_mut() {
        if n >= b.len() {
            n -= b.len();
            done += 1;
        } else {
            *b = b.slice(n..);
            break;
        }
    }
    bufs.drain(..done);
}

/// Writes all of `bufs`, waiting for the socket as needed.
pub async fn write_all(sock: &TcpStream, bufs: &mut Vec<Bytes>) -> io::Result<()> {
    while !try_write_all(sock, bufs)? {
        sock.writable().await?;
    }
    Ok(())
}

/// Bytes one socket read may take: a whole signalling offer in one call.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    /// Each worker thread's one buffer for socket reads.
    static READ_SCRATCH: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; READ_CHUNK].into_boxed_slice());
}

/// The socket as tungstenite sees it: reads come from the socket; writes
/// (tungstenite's automatic pongs and close replies) are queued as raw
/// bytes in the session's outbox, written by the one writer in order.
///
/// tungstenite reads in chunks of `ws_read_buffer` bytes into a buffer it
/// keeps for the connection's life, so that buffer is small. One socket
/// read still takes up to [`READ_CHUNK`] bytes, into the thread's scratch
/// buffer; what tungstenite did not take waits in `unread`, which is
/// allocated only while such bytes wait (an idle session holds none).
pub struct WireIo {
    sock: Arc<TcpStream>,
    outbox: Arc<Outbox>,
    unread: Option<Box<Unread>>,
}

/// Bytes read from the socket that tungstenite has not taken yet.
struct Unread {
    bytes: Vec<u8>,
    at: usize,
}

impl WireIo {
    /// tungstenite's view of `sock`, writing through `outbox`.
    pub fn new(sock: Arc<TcpStream>, outbox: Arc<Outbox>) -> Self {
        WireIo {
            sock,
            outbox,
            unread: None,
        }
    }

    /// Hands out waiting bytes; frees them once all are taken.
    fn take_unread(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        let Some(u) = self.unread.as_mut() else {
            return false;
        };
        let n = buf.remaining().min(u.bytes.len() - u.at);
        buf.put_slice(&u.bytes[u.at..u.at + n]);
        u.at += n;
        if u.at == u.bytes.len() {
            self.unread = None;
        }
        true
    }
}

impl AsyncRead for WireIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 || self.take_unread(buf) {
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(self.sock.poll_read_ready(cx))?;
            let read = READ_SCRATCH.with_borrow_mut(|scratch| {
                let n = self.sock.try_read(scratch)?;
                let now = n.min(buf.remaining());
                buf.put_slice(&scratch[..now]);
                if n > now {
                    self.unread = Some(Box::new(Unread {
                        bytes: scratch[now..n].to_vec(),
                        at: 0,
                    }));
                }
                Ok::<_, io::Error>(n)
            });
            match read {
                Ok(_) => return Poll::Ready(Ok(())),
                // The readiness was stale and is now cleared: wait again.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for WireIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if !buf.is_empty() {
            self.outbox.push_raw(Bytes::copy_from_slice(buf));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    #[test]
    fn headers_use_the_shortest_length_form() {
        assert_eq!(&header(TEXT, 0).0[..2], &[0x81, 0]);
        assert_eq!(&header(TEXT, 125).0[..2], &[0x81, 125]);
        let (h, n) = header(BINARY, 126);
        assert_eq!(&h[..n], &[0x82, 126, 0, 126]);
        let (h, n) = header(BINARY, 65_535);
        assert_eq!(&h[..n], &[0x82, 126, 0xff, 0xff]);
        let (h, n) = header(BINARY, 65_536);
        assert_eq!(&h[..n], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn a_close_frame_carries_code_then_reason() {
        let msg = Message::Close(Some(CloseFrame {
            code: 4001u16.into(),
            reason: "slow".into(),
        }));
        assert_eq!(
            &frame(&msg)[..],
            &[0x88, 6, 0x0f, 0xa1, b's', b'l', b'o', b'w']
        );
    }

    #[test]
    fn vectored_parts_equal_the_whole_frame() {
        let msg = Message::Text("x".repeat(300).into());
        let mut bufs = vec![];
        push_frame(&mut bufs, &msg);
        let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        assert_eq!(joined, frame(&msg).to_vec());
    }

    /// tungstenite asks for a few bytes at a time: one socket read serves
    /// many of its calls, in order, and nothing waits once all are taken.
    #[tokio::test]
    async fn small_reads_take_a_large_socket_read_in_order() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut io = WireIo::new(Arc::new(server), Arc::new(Outbox::new(1 << 20)));
        let sent: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        client.write_all(&sent).await.unwrap();
        let (mut got, mut staged) = (vec![], false);
        let mut chunk = [0u8; 128];
        while got.len() < sent.len() {
            let n = io.read(&mut chunk).await.unwrap();
            assert!(n > 0, "end of stream after {} bytes", got.len());
            got.extend_from_slice(&chunk[..n]);
            staged |= io.unread.is_some();
        }
        assert!(staged, "no socket read was larger than tungstenite's ask");
        assert_eq!(got, sent);
        assert!(
            io.unread.is_none(),
            "bytes left waiting after all were read"
        );
        drop(client);
        assert_eq!(io.read(&mut chunk).await.unwrap(), 0, "the peer's end");
    }

    #[test]
    fn advance_cuts_a_partly_written_buffer() {
        let mut bufs = vec![Bytes::from_static(b"abc"), Bytes::from_static(b"defg")];
        advance(&mut bufs, 4);
        assert_eq!(bufs, vec![Bytes::from_static(b"efg")]);
        advance(&mut bufs, 3);
        assert!(bufs.is_empty());
    }
}
