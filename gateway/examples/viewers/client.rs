//! Viewer and sender connections: connect from a chosen source address,
//! join, read (recording marked comments' delay) or send marked comments.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::{ClientFrame, Codec, Join, PostComment, Request, RequestId, ServerFrame};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::Args;

pub type Ws = WebSocketStream<TcpStream>;

/// What one viewer saw.
#[derive(Default)]
pub struct ViewerReport {
    pub hist: Option<Histogram<u32>>,
    pub comments: u64,
    pub frames: u64,
    pub bytes: u64,
}

#[derive(Default)]
pub struct Counters {
    pub joined: AtomicUsize,
    pub failed: AtomicUsize,
    /// Set while comments flow: frames and bytes count only then.
    pub measuring: AtomicBool,
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub fn new_hist() -> Histogram<u32> {
    // 10 µs .. 120 s at 2 significant figures: ~9 KiB per viewer.
    Histogram::new_with_bounds(10, 120_000_000, 2)
        .unwrap_or_else(|_| Histogram::new(2).expect("histogram"))
}

pub fn encode(codec: Codec, frame: &ClientFrame) -> anyhow::Result<Message> {
    let bytes = codec.encode_client(frame);
    Ok(match codec {
        Codec::Json => Message::Text(String::from_utf8(bytes.to_vec())?.into()),
        Codec::Binary => Message::Binary(bytes),
    })
}

pub fn decode(codec: Codec, msg: &Message) -> Option<ServerFrame> {
    match msg {
        Message::Text(t) => codec.decode_server(t.as_bytes()).ok(),
        Message::Binary(b) => codec.decode_server(b).ok(),
        _ => None,
    }
}

/// Send times (unix µs) of the marked comments in a frame, without decoding it.
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

/// Opens one connection from `source` and joins `room`; returns after `joined`.
pub async fn connect(
    args: &Args,
    server: SocketAddr,
    source: Ipv4Addr,
    codec: Codec,
    token: Option<&str>,
) -> anyhow::Result<Ws> {
    let sock = TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(IpAddr::V4(source), 0))
        .with_context(|| format!("bind {source}"))?;
    let stream = sock.connect(server).await.context("connect")?;
    let url = match token {
        Some(t) => format!("{}?token={t}", args.url),
        None => args.url.clone(),
    };
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(codec.subprotocol()),
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(args.client_read_buffer)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("handshake")?;
    let join = ClientFrame {
        id: Some(RequestId("join".into())),
        request: Request::Join(Join {
            room: args.room.clone(),
            resume: None,
        }),
    };
    ws.send(encode(codec, &join)?).await?;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no join reply")?
            .context("closed before joining")??;
        match decode(codec, &msg) {
            Some(ServerFrame::Joined(_)) => return Ok(ws),
            Some(ServerFrame::Error(e)) => bail!("join refused: {:?} {}", e.code, e.message),
            _ => {}
        }
    }
}

/// Reads until told to stop, recording the delay of every marked comment.
pub async fn read_loop(mut ws: Ws, mut stop: watch::Receiver<bool>, c: &Counters) -> ViewerReport {
    let mut r = ViewerReport::default();
    loop {
        let msg = tokio::select! {
            _ = stop.changed() => break,
            msg = ws.next() => msg,
        };
        let data: &[u8] = match &msg {
            Some(Ok(Message::Text(t))) => t.as_bytes(),
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        };
        if c.measuring.load(Ordering::Relaxed) {
            r.frames += 1;
            r.bytes += data.len() as u64;
        }
        let now = now_micros();
        marks(data, |sent| {
            r.comments += 1;
            let h = r.hist.get_or_insert_with(new_hist);
            h.saturating_record(now.saturating_sub(sent).max(10));
        });
    }
    r
}

/// Sends `rate` marked comments per second until stopped; returns (sent, refused).
pub async fn sender(
    mut ws: Ws,
    rate: f64,
    phase: Duration,
    mut stop: watch::Receiver<bool>,
) -> (u64, u64) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + phase,
        Duration::from_secs_f64(1.0 / rate),
    );
    let (mut sent, mut refused, mut n) = (0u64, 0u64, 0u64);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                n += 1;
                let text = format!("#t={}# 主播好 nice stream {n}", now_micros());
                let frame = ClientFrame {
                    id: Some(RequestId(n.to_string())),
                    request: Request::Comment(PostComment { text }),
                };
                let Ok(msg) = encode(Codec::Json, &frame) else { break };
                if ws.send(msg).await.is_err() {
                    break;
                }
                sent += 1;
            }
            msg = ws.next() => match msg {
                Some(Ok(m)) => {
                    if let Some(ServerFrame::Error(_)) = decode(Codec::Json, &m) {
                        refused += 1;
                    }
                }
                _ => break,
            }
        }
    }
    (sent, refused)
}
