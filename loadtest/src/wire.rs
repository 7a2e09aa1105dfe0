//! How gateway frames travel: the gateway's own WebSocket framing (one frame
//! per message, subprotocol = codec), or the small Socket.IO v4 adapter used
//! to drive the comparison peer in `benches/peers/socketio`: the same JSON
//! frames as the single argument of a `frame` event (`42["frame",{..}]`)
//! over Engine.IO v4 on `/socket.io/?EIO=4&transport=websocket`.
//!
//! The gateway wire is left untouched (zero-copy: [`Wire::inbound`] hands
//! back the message bytes as they are); Socket.IO messages are unwrapped to
//! a slice of the message, Engine.IO pings are answered with a pong, and
//! every other Engine.IO/Socket.IO packet is skipped.

use anyhow::{Context, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use protocol::{Codec, ServerFrame};
use serde::{Deserialize, Serialize};
use tokio_tungstenite::tungstenite::Message;

use crate::conn::Ws;

/// The framing a target speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// The gateway's WebSocket protocol (`live.json.v1` / `live.postcard.v1`).
    #[default]
    Gateway,
    /// Socket.IO v4 `frame` events carrying the JSON frames (JSON codec only).
    Socketio,
}

/// Socket.IO event packet (`4` message + `2` event, namespace `/`) of a `frame`.
const FRAME_PREFIX: &[u8] = b"42[\"frame\",";

/// What a received data message holds for the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// A gateway frame (JSON or postcard bytes).
    Frame(&'a [u8]),
    /// Send this back (the Engine.IO pong); nothing else to do.
    Reply(Message),
    /// Nothing for the caller (other Engine.IO/Socket.IO packets).
    Skip,
}

/// An Engine.IO/Socket.IO text packet, as far as the adapter cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Engine.IO `open` (`0{"sid":..}`): its JSON.
    Open(&'a [u8]),
    /// Engine.IO `ping` (`2`).
    Ping,
    /// Socket.IO `CONNECT` accepted (`40` or `40{"sid":..}`).
    Connected,
    /// Socket.IO `CONNECT_ERROR` (`44{..}`): its payload.
    ConnectError(&'a [u8]),
    /// A `frame` event: the inner JSON.
    Frame(&'a [u8]),
    /// Anything else.
    Other,
}

/// Classifies one Engine.IO v4 packet (one WebSocket message).
pub fn classify(data: &[u8]) -> Packet<'_> {
    if let Some(inner) = data
        .strip_prefix(FRAME_PREFIX)
        .and_then(|r| r.strip_suffix(b"]"))
    {
        return Packet::Frame(inner);
    }
    match data {
        b"2" => Packet::Ping,
        [b'0', rest @ ..] => Packet::Open(rest),
        [b'4', b'0', rest @ ..] if rest.is_empty() || rest[0] == b'{' => Packet::Connected,
        [b'4', b'4', rest @ ..] => Packet::ConnectError(rest),
        _ => Packet::Other,
    }
}

/// The Engine.IO `open` packet's session id (checks it is one).
pub fn parse_open(data: &[u8]) -> anyhow::Result<String> {
    let Packet::Open(json) = classify(data) else {
        bail!(
            "expected the Engine.IO open packet (0{{..}}), got {:?}",
            preview(data)
        );
    };
    let v: serde_json::Value =
        serde_json::from_slice(json).context("Engine.IO open packet: not JSON")?;
    let sid = v
        .get("sid")
        .and_then(|s| s.as_str())
        .context("Engine.IO open packet without sid")?;
    ensure!(!sid.is_empty(), "Engine.IO open packet with an empty sid");
    Ok(sid.to_string())
}

fn preview(data: &[u8]) -> String {
    String::from_utf8_lossy(&data[..data.len().min(80)]).into_owned()
}

impl Wire {
    /// The URL to dial for a target URL (`ws://host:port/ws`) and token.
    pub fn url(self, target: &str, token: Option<&str>) -> String {
        match self {
            Wire::Gateway => match token {
                Some(t) => format!("{target}?token={t}"),
                None => target.to_string(),
            },
            Wire::Socketio => {
                let (scheme, rest) = target.split_once("://").unwrap_or(("ws", target));
                let authority = rest.split(['/', '?']).next().unwrap_or_default();
                let mut url =
                    format!("{scheme}://{authority}/socket.io/?EIO=4&transport=websocket");
                if let Some(t) = token {
                    url.push_str("&token=");
                    url.push_str(t);
                }
                url
            }
        }
    }

    /// The WebSocket subprotocol to ask for, if any.
    pub fn subprotocol(self, codec: Codec) -> Option<&'static str> {
        match self {
            Wire::Gateway => Some(codec.subprotocol()),
            Wire::Socketio => None,
        }
    }

    /// Wraps an encoded client frame for this wire.
    pub fn wrap(self, msg: Message) -> Message {
        match (self, msg) {
            (Wire::Socketio, Message::Text(t)) => {
                let mut s = String::with_capacity(FRAME_PREFIX.len() + t.len() + 1);
                s.push_str("42[\"frame\",");
                s.push_str(t.as_str());
                s.push(']');
                Message::text(s)
            }
            (_, m) => m,
        }
    }

    /// What a received data message (its payload) holds.
    #[inline]
    pub fn inbound(self, data: &[u8]) -> Inbound<'_> {
        match self {
            Wire::Gateway => Inbound::Frame(data),
            Wire::Socketio => match classify(data) {
                Packet::Frame(inner) => Inbound::Frame(inner),
                Packet::Ping => Inbound::Reply(Message::text("3")),
                _ => Inbound::Skip,
            },
        }
    }

    /// After the WebSocket handshake: the Engine.IO open packet, then the
    /// Socket.IO connect to namespace `/` (nothing for the gateway).
    pub async fn open(self, ws: &mut Ws) -> anyhow::Result<()> {
        if self == Wire::Gateway {
            return Ok(());
        }
        let first = next_data(ws).await.context("waiting for Engine.IO open")?;
        parse_open(&first)?;
        ws.send(Message::text("40")).await?;
        loop {
            let data = next_data(ws)
                .await
                .context("waiting for Socket.IO connect")?;
            match classify(&data) {
                Packet::Connected => return Ok(()),
                Packet::ConnectError(e) => {
                    bail!("Socket.IO connect refused: {}", preview(e))
                }
                Packet::Ping => ws.send(Message::text("3")).await?,
                _ => {}
            }
        }
    }

    /// Decodes a received message into a server frame, answering an
    /// Engine.IO ping on `ws`; `None` for anything else.
    pub async fn decode(self, codec: Codec, ws: &mut Ws, msg: &Message) -> Option<ServerFrame> {
        let data: &[u8] = match msg {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b,
            _ => return None,
        };
        match self.inbound(data) {
            Inbound::Frame(f) => codec.decode_server(f).ok(),
            Inbound::Reply(m) => {
                // A failed pong shows up as a failed read next.
                let _ = ws.send(m).await;
                None
            }
            Inbound::Skip => None,
        }
    }
}

/// The next data message's bytes; an error on close.
async fn next_data(ws: &mut Ws) -> anyhow::Result<Vec<u8>> {
    loop {
        match ws.next().await.context("closed")?? {
            Message::Text(t) => return Ok(t.as_bytes().to_vec()),
            Message::Binary(b) => return Ok(b.to_vec()),
            Message::Close(c) => bail!("closed: {c:?}"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use protocol::{ClientFrame, Lane, Like, Request, RequestId};

    #[test]
    fn urls() {
        let t = "ws://127.0.0.1:18096/ws";
        assert_eq!(Wire::Gateway.url(t, None), t);
        assert_eq!(
            Wire::Gateway.url(t, Some("k")),
            "ws://127.0.0.1:18096/ws?token=k"
        );
        assert_eq!(
            Wire::Socketio.url(t, None),
            "ws://127.0.0.1:18096/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            Wire::Socketio.url("ws://localhost:9", Some("peer-u1")),
            "ws://localhost:9/socket.io/?EIO=4&transport=websocket&token=peer-u1"
        );
        assert_eq!(Wire::Gateway.subprotocol(Codec::Json), Some("live.json.v1"));
        assert_eq!(Wire::Socketio.subprotocol(Codec::Json), None);
    }

    #[test]
    fn wraps_client_frames() {
        let frame = ClientFrame {
            id: Some(RequestId("7".into())),
            request: Request::Like(Like { count: 1 }),
        };
        let msg = crate::conn::encode(Codec::Json, &frame).unwrap();
        let Message::Text(plain) = &msg else {
            panic!("not text")
        };
        let plain = plain.as_str().to_string();
        assert_eq!(Wire::Gateway.wrap(msg.clone()), msg);
        let Message::Text(t) = Wire::Socketio.wrap(msg) else {
            panic!("not text")
        };
        assert_eq!(t.as_str(), format!("42[\"frame\",{plain}]"));
        // What Socket.IO's parser reads back: ["frame", <the frame>].
        let v: serde_json::Value = serde_json::from_str(&t.as_str()[2..]).unwrap();
        assert_eq!(v[0], "frame");
        assert_eq!(v[1]["type"], "like");
        assert_eq!(v[1]["count"], 1);
        assert_eq!(v[1]["id"], "7");
    }

    #[test]
    fn unwraps_frames_in_place() {
        let msg = br#"42["frame",{"type":"events","room":"r","epoch":"peer","lane":"low","since":3,"upto":9,"events":[],"totals":null}]"#;
        let Inbound::Frame(inner) = Wire::Socketio.inbound(msg) else {
            panic!("not a frame")
        };
        assert!(inner.starts_with(b"{\"type\":\"events\""));
        assert!(inner.ends_with(b"\"totals\":null}"));
        // A slice of the message, not a copy.
        assert_eq!(inner.as_ptr(), msg[11..].as_ptr());
        assert_eq!(crate::conn::json_low_upto(inner), Some(9));
        let Some(ServerFrame::Batch(b)) = Codec::Json.decode_server(inner).ok() else {
            panic!("not a batch")
        };
        assert_eq!((b.lane, b.since, b.upto), (Lane::Low, 3, 9));
        // The gateway wire hands everything through as it is.
        assert_eq!(Wire::Gateway.inbound(msg), Inbound::Frame(&msg[..]));
        assert_eq!(Wire::Gateway.inbound(b"2"), Inbound::Frame(b"2"));
    }

    #[test]
    fn answers_pings_and_skips_the_rest() {
        assert_eq!(
            Wire::Socketio.inbound(b"2"),
            Inbound::Reply(Message::text("3"))
        );
        for other in [
            &b"3"[..],
            b"40",
            b"41",
            b"6",
            b"2probe",
            br#"42["other",{"type":"ack"}]"#,
            br#"42["frame",{"type":"ack"}"#,
            br#"{"type":"ack","id":"1","event":null,"status":null}"#,
        ] {
            assert_eq!(
                Wire::Socketio.inbound(other),
                Inbound::Skip,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[test]
    fn handshake_packets() {
        let open = br#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        assert_eq!(parse_open(open).unwrap(), "lv_VI97HAXpY6yYWAAAC");
        assert!(parse_open(b"40").is_err());
        assert!(parse_open(b"0").is_err());
        assert!(parse_open(b"0{\"upgrades\":[]}").is_err());
        assert!(parse_open(b"0{\"sid\":\"\"}").is_err());
        assert_eq!(classify(b"40"), Packet::Connected);
        assert_eq!(
            classify(br#"40{"sid":"wZX3oN0bSVIhsaknAAAI"}"#),
            Packet::Connected
        );
        assert_eq!(classify(b"40/admin,"), Packet::Other);
        assert_eq!(
            classify(br#"44{"message":"Not authorized"}"#),
            Packet::ConnectError(br#"{"message":"Not authorized"}"#)
        );
        assert_eq!(classify(b"2"), Packet::Ping);
        assert_eq!(classify(b"42[\"frame\",{}]"), Packet::Frame(b"{}"));
    }
}
