//! One WebSocket connection to a gateway: connect from a chosen source
//! address, wait for `hello`, join (optionally resuming), and the cheap
//! frame inspection the read loops use (send-time marks, JSON lane/upto).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, Codec, Join, Joined, Request, RequestId, Resume, ServerFrame};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::scenario::host_port;
use crate::wire::Wire;

/// A client WebSocket over plain TCP.
pub type Ws = WebSocketStream<TcpStream>;

/// How long a connect + handshake + join may take.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Wall-clock microseconds since the Unix epoch (the comment mark unit).
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The comment text carrying its send time.
pub fn marked_text(n: u64) -> String {
    format!("#t={}# loadtest 主播好 {n}", now_micros())
}

/// Calls `f` with every send time (`#t=<µs>#`) found in `data`.
pub fn marks(data: &[u8], mut f: impl FnMut(u64)) {
    let mut i = 0;
    while let Some(p) = data[i..].windows(3).position(|w| w == b"#t=") {
        let start = i + p + 3;
        let digits = data[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if let Some(v) = std::str::from_utf8(&data[start..start + digits])
            .ok()
            .and_then(|s| s.parse().ok())
        {
            f(v);
        }
        i = start + digits;
    }
}

/// For a JSON low-lane `events` frame, its `upto`; `None` for anything else
/// (those are decoded in full). Only the head of the frame is searched: the
/// gateway writes `type`, `room`, `epoch`, `lane`, `since`, `upto` first.
pub fn json_low_upto(data: &[u8]) -> Option<u64> {
    let head = &data[..data.len().min(256)];
    find(head, b"\"type\":\"events\"")?;
    find(head, b"\"lane\":\"low\"")?;
    let at = find(head, b"\"upto\":")? + 7;
    let digits = head[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&head[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Encodes a client frame for `codec`.
pub fn encode(codec: Codec, frame: &ClientFrame) -> anyhow::Result<Message> {
    let bytes = codec.encode_client(frame);
    Ok(match codec {
        Codec::Json => Message::Text(String::from_utf8(bytes.to_vec())?.into()),
        Codec::Binary => Message::Binary(bytes),
    })
}

/// Decodes a data message; `None` for control frames and undecodable data.
pub fn decode(codec: Codec, msg: &Message) -> Option<ServerFrame> {
    match msg {
        Message::Text(t) => codec.decode_server(t.as_bytes()).ok(),
        Message::Binary(b) => codec.decode_server(b).ok(),
        _ => None,
    }
}

/// Resolves a `ws://` URL to its socket address.
pub async fn resolve(url: &str) -> anyhow::Result<SocketAddr> {
    let (host, port) = host_port(url)?;
    tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .with_context(|| format!("{host} does not resolve"))
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Dial<'a> {
    /// `ws://host:port/ws`.
    pub url: &'a str,
    /// Its resolved address.
    pub addr: SocketAddr,
    /// Local source address.
    pub source: Ipv4Addr,
    /// Codec (subprotocol).
    pub codec: Codec,
    /// Viewer token, if signed in.
    pub token: Option<&'a str>,
    /// Framing (the gateway's, or Socket.IO for a comparison peer).
    pub wire: Wire,
}

/// Connects, waits for `hello`, joins `room` (resuming from `resume`), and
/// returns the socket with the `joined` reply.
pub async fn connect_and_join(
    d: &Dial<'_>,
    room: &str,
    resume: Option<Resume>,
) -> anyhow::Result<(Ws, Joined)> {
    tokio::time::timeout(JOIN_TIMEOUT, connect_inner(d, room, resume))
        .await
        .context("join timed out")?
}

async fn connect_inner(
    d: &Dial<'_>,
    room: &str,
    resume: Option<Resume>,
) -> anyhow::Result<(Ws, Joined)> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(IpAddr::V4(d.source), 0))
        .with_context(|| format!("bind {}", d.source))?;
    let stream = sock.connect(d.addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let mut req = d.wire.url(d.url, d.token).into_client_request()?;
    if let Some(p) = d.wire.subprotocol(d.codec) {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(p));
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("handshake")?;
    d.wire.open(&mut ws).await?;
    let join = ClientFrame {
        id: Some(RequestId("j".into())),
        request: Request::Join(Join {
            room: room.to_string(),
            resume,
        }),
    };
    ws.send(d.wire.wrap(encode(d.codec, &join)?)).await?;
    loop {
        let msg = ws.next().await.context("closed before joining")??;
        if let Message::Close(c) = &msg {
            bail!("closed before joining: {c:?}");
        }
        match d.wire.decode(d.codec, &mut ws, &msg).await {
            Some(ServerFrame::Joined(j)) => return Ok((ws, j)),
            Some(ServerFrame::Error(e)) => bail!("refused: {:?} {}", e.code, e.message),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_marks() {
        let mut v = vec![];
        marks(b"x #t=12# y #t=345# z #t=#", |t| v.push(t));
        assert_eq!(v, vec![12, 345]);
        let text = marked_text(7);
        let mut w = vec![];
        marks(text.as_bytes(), |t| w.push(t));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn low_lane_json_head() {
        let low = br#"{"type":"events","room":"r","epoch":"e","lane":"low","since":3,"upto":17,"events":[]}"#;
        assert_eq!(json_low_upto(low), Some(17));
        let high = br#"{"type":"events","room":"r","epoch":"e","lane":"high","since":3,"upto":17,"events":[]}"#;
        assert_eq!(json_low_upto(high), None);
        assert_eq!(json_low_upto(br#"{"type":"pong","id":"1","ts":1}"#), None);
    }
}
