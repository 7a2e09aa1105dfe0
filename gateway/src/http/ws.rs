//! WebSocket upgrade at `/ws`: checks the `Origin` against the allow-list,
//! negotiates the codec by subprotocol, reads the optional `?token=`, sizes
//! tungstenite's read buffer for many idle connections, and hands the raw
//! socket to a [`Session`] (writes, our framing) and to tungstenite (reads).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use hyper_util::rt::TokioIo;
use protocol::Codec;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::AppState;
use crate::hub::wire::WireIo;
use crate::moderation::IpSlot;
use crate::session::Session;

/// Query string of the upgrade request.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// Viewer token; absent for anonymous viewers.
    token: Option<String>,
}

fn bad(status: StatusCode, msg: &'static str) -> Response {
    (status, msg).into_response()
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(token))
}

/// Whether `origin` is one of the comma-separated `allowed` origins (an
/// empty list allows any). Origins compare without case and without a
/// trailing `/`.
fn origin_allowed(allowed: &str, origin: &[u8]) -> bool {
    if allowed.trim().is_empty() {
        return true;
    }
    let trim = |o: &[u8]| -> Vec<u8> {
        let o = o.trim_ascii();
        o.strip_suffix(b"/").unwrap_or(o).to_ascii_lowercase()
    };
    let origin = trim(origin);
    allowed
        .split(',')
        .filter(|a| !a.trim().is_empty())
        .any(|a| trim(a.as_bytes()) == origin)
}

pub(super) async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(slot): Extension<Arc<IpSlot>>,
    Query(query): Query<WsQuery>,
    mut req: Request,
) -> Response {
    let node = state.node.clone();
    if node.is_shutting_down() {
        return bad(StatusCode::SERVICE_UNAVAILABLE, "node shutting down");
    }
    let headers = req.headers();
    // Browsers always send Origin; other clients need not, and pass.
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin_allowed(&node.settings.allowed_origins, origin.as_bytes())
    {
        node.metrics
            .rejections
            .get_or_create(&vec![("code", "origin_refused")])
            .inc();
        return bad(StatusCode::FORBIDDEN, "origin not allowed");
    }
    if !header_has(headers, header::UPGRADE, "websocket")
        || !header_has(headers, header::CONNECTION, "upgrade")
        || headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .map(|v| v.as_bytes())
            != Some(b"13")
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "expected a WebSocket (version 13) upgrade",
        );
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return bad(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
    };
    let accept = derive_accept_key(key.as_bytes());
    let codec = match headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
        None => None,
        Some(v) => match v.to_str().ok().and_then(Codec::from_subprotocols) {
            Some(c) => Some(c),
            None => {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "unsupported subprotocol; offer live.json.v1 or live.postcard.v1",
                );
            }
        },
    };
    let max = node.settings.max_connections;
    if max > 0 && node.metrics.connections.get() >= max as i64 {
        return bad(
            StatusCode::SERVICE_UNAVAILABLE,
            "node at its connection limit",
        );
    }
    // The per-IP rate; the cap was applied at the accept (`listener.rs`),
    // and the session keeps the connection's place under it.
    if let Err(retry_s) = node.conn_limits.check_connect_rate(peer.ip()) {
        node.metrics
            .rejections
            .get_or_create(&vec![("code", "ip_limited")])
            .inc();
        let mut resp = bad(
            StatusCode::TOO_MANY_REQUESTS,
            "too many new connections from this address",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_s.max(1)));
        return resp;
    }
    let (identity, refused) = match query.token.as_deref() {
        None | Some("") => (None, None),
        Some(t) => match node.keys.verify(t, &node.limits) {
            Ok(id) => (Some(id), None),
            Err(r) => (None, Some(r)),
        },
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let hard_limit = (node.settings.max_frame_bytes * 4).max(64 * 1024);
    let config = WebSocketConfig::default()
        .read_buffer_size(node.settings.ws_read_buffer)
        // tungstenite writes only its control replies, at once, into the
        // outbox (`WireIo`); frames are ours.
        .write_buffer_size(0)
        .max_message_size(Some(hard_limit))
        .max_frame_size(Some(hard_limit));
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                return;
            }
        };
        // The raw socket: the hub writes frames to it directly, tungstenite
        // reads from it (`hub::wire`).
        let parts = match upgraded.downcast::<TokioIo<TcpStream>>() {
            Ok(p) => p,
            Err(_) => {
                tracing::error!("upgraded connection is not a TCP stream");
                return;
            }
        };
        let socket = Arc::new(parts.io.into_inner());
        // What the client sent after its upgrade request, copied out: the
        // `Bytes` is a view of hyper's whole read buffer (kilobytes), which
        // would otherwise stay allocated for the life of the session.
        let early = parts.read_buf.to_vec();
        drop(parts.read_buf);
        let session = Session::new(node, identity, codec.unwrap_or(Codec::Json), socket.clone());
        let io = WireIo::new(socket, session.outbox());
        let ws = WebSocketStream::from_partially_read(io, early, Role::Server, Some(config)).await;
        // The session gets a task of its own, sized by its future alone: in
        // this one the upgrade's state and the captured values would stay
        // allocated beside it for the connection's life (~500 bytes).
        tokio::spawn(session.run(ws, refused).map(move |()| drop(slot)));
    });
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(c) = codec {
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(c.subprotocol()),
        );
    }
    resp
}
