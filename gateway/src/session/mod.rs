//! One WebSocket connection: a single task that reads client frames (through
//! tungstenite), runs them through the request path, writes what its outbox
//! holds (replies, control frames and the room frames the hub could not
//! write directly) through our own framing, keeps the heartbeat and closes
//! with a documented code. The socket's one writer at a time is the outbox's
//! claim (`hub::outbox`), shared with the room hub's direct writes.

mod requests;

pub(crate) use requests::ack;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota};
use protocol::event::ErrorReply;
use protocol::{CloseCode, Codec, Hello, Lane, Rejection, RequestId, ServerFrame};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth::Identity;
use crate::hub::HubHandle;
use crate::hub::fanout::encode_message;
use crate::hub::outbox::{Outbox, Outgoing, Taken};
use crate::hub::wire;
use crate::service::Node;

/// How long the final close frame may take to write.
const CLOSE_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The room a session has joined.
struct JoinedRoom {
    room: String,
    hub: Arc<HubHandle>,
    /// Whether this session counts as an anchor presence in the hub.
    anchor_counted: bool,
}

/// A comment waiting for its room's batch to commit, with its answer.
type PendingAck =
    Pin<Box<dyn Future<Output = (Option<RequestId>, Result<ServerFrame, Rejection>)> + Send>>;

/// State of one connection.
pub struct Session {
    id: u64,
    node: Arc<Node>,
    identity: Option<Identity>,
    codec: Codec,
    outbox: Arc<Outbox>,
    joined: Option<JoinedRoom>,
    /// Bumped on every join so frames of a room left behind are dropped.
    generation: u32,
    /// Room frames up to this offset are already in the join snapshot.
    skip_upto: u64,
    malformed: u32,
    /// Created on the first request, so idle viewers carry no limiter.
    limiter: Option<Box<DefaultDirectRateLimiter>>,
    last_heard: Instant,
    /// The user this session is registered under for targeted events.
    registered: Option<String>,
    /// Comments waiting for their batch (answered as each commits).
    acks: Acks,
    /// The client sent a close: tungstenite's reply is the close frame.
    peer_closed: bool,
}

/// Comments waiting for their batch, answered as each commits; nothing is
/// allocated while none waits (most sessions never comment).
#[derive(Default)]
struct Acks(Option<FuturesUnordered<PendingAck>>);

impl Acks {
    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, FuturesUnordered::len)
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, ack: PendingAck) {
        self.0.get_or_insert_with(FuturesUnordered::new).push(ack);
    }

    /// The next answer (cancel-safe); `None` when none waits.
    async fn next(&mut self) -> Option<(Option<RequestId>, Result<ServerFrame, Rejection>)> {
        let waiting = self.0.as_mut()?;
        let out = waiting.next().await;
        if waiting.is_empty() {
            self.0 = None;
        }
        out
    }
}

enum Flow {
    Continue,
    Close(CloseCode),
}

impl Session {
    /// A session for a connection on `socket` that presented `identity`
    /// (or none).
    pub fn new(
        node: Arc<Node>,
        identity: Option<Identity>,
        codec: Codec,
        socket: Arc<tokio::net::TcpStream>,
    ) -> Self {
        let outbox = Arc::new(Outbox::with_socket(node.settings.outbox_bytes, socket));
        Session {
            id: node.session_id(),
            node,
            identity,
            codec,
            outbox,
            joined: None,
            generation: 0,
            skip_upto: 0,
            malformed: 0,
            limiter: None,
            last_heard: Instant::now(),
            registered: None,
            acks: Acks::default(),
            peer_closed: false,
        }
    }

    /// The outbox the connection's writes go through (tungstenite's
    /// control frames too: [`wire::WireIo`]).
    pub fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    /// Runs the connection to its end. `refused` (a bad token at upgrade)
    /// sends an error reply instead of `hello` and closes with 4100.
    pub async fn run<S>(mut self, mut ws: S, refused: Option<Rejection>)
    where
        S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
    {
        let metrics = self.node.metrics.clone();
        metrics.connections.inc();
        let close = match refused {
            Some(r) => {
                self.reply(ServerFrame::Error(ErrorReply::new(None, r)));
                Some(CloseCode::AuthFailed)
            }
            None => self.serve(&mut ws).await,
        };
        // The rare steps are boxed: the session future (one per connection,
        // most of them idle) keeps only the state of its wait for input.
        Box::pin(self.leave(true)).await;
        Box::pin(self.unregister_user()).await;
        if let Some(code) = close {
            // Whatever is still queued (the refusal, say) goes before the
            // close, unless the socket is what is stuck; the rest of a frame
            // written in part always does. A client's close is answered by
            // tungstenite's reply, already among the raw bytes.
            if self.peer_closed {
                let _ = Box::pin(ws.flush()).await;
            }
            let taken = self.outbox.take_all();
            let mut bufs = if code == CloseCode::SlowConsumer {
                taken.raw.into_iter().collect()
            } else {
                self.view().frames(taken)
            };
            if !self.peer_closed {
                let frame = Message::Close(Some(CloseFrame {
                    code: code.code().into(),
                    reason: code.reason().into(),
                }));
                wire::push_frame(&mut bufs, &frame);
            }
            let label = vec![("code", close_label(code))];
            metrics.closes.get_or_create(&label).inc();
            let limit = CLOSE_WRITE_TIMEOUT.min(self.write_timeout());
            if let Some(sock) = self.outbox.socket() {
                let _ =
                    tokio::time::timeout(limit, Box::pin(wire::write_all(sock, &mut bufs))).await;
            }
        }
        metrics.connections.dec();
    }

    async fn serve<S>(&mut self, ws: &mut S) -> Option<CloseCode>
    where
        S: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
    {
        self.reply(ServerFrame::Hello(self.hello()));
        self.register_if_signed_in().await;
        // Its turn in the node's paced drain, or the node's shutdown.
        let turn = crate::service::session_turn(self.node.clone());
        tokio::pin!(turn);
        let outbox = self.outbox.clone();
        let beat = Duration::from_millis(self.node.settings.heartbeat_ms.max(1));
        let idle = Duration::from_millis(self.node.settings.idle_timeout_ms);
        let mut heartbeat = tokio::time::interval_at(Instant::now() + beat, beat);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if self.node.is_shutting_down() {
            return Some(CloseCode::ShuttingDown);
        }
        loop {
            tokio::select! {
                () = &mut turn => {
                    Box::pin(self.settle_acks()).await;
                    return Some(CloseCode::ShuttingDown);
                }
                Some((id, out)) = self.acks.next(), if !self.acks.is_empty() => {
                    self.finish_comment(id, out);
                }
                _ = outbox.ready() => match self.write_queue().await {
                    Ok(None) => {}
                    Ok(Some(code)) => return Some(code),
                    Err(e) => {
                        tracing::debug!(session = self.id, error = %e, "write failed");
                        return None;
                    }
                },
                msg = ws.next() => {
                    self.last_heard = Instant::now();
                    match msg {
                        Some(Ok(Message::Close(_))) => {
                            self.peer_closed = true;
                            return Some(CloseCode::Normal);
                        }
                        Some(Ok(m)) => {
                            let flow = Box::pin(self.on_message(m)).await;
                            // Time spent on the request is ours, not the
                            // client's silence (its pings waited meanwhile).
                            self.last_heard = Instant::now();
                            // An `auth` request may have signed the session in.
                            self.register_if_signed_in().await;
                            if let Flow::Close(code) = flow {
                                return Some(code);
                            }
                        }
                        Some(Err(WsError::Capacity(_))) => return Some(CloseCode::MessageTooBig),
                        Some(Err(WsError::Utf8(_))) => return Some(CloseCode::InvalidPayload),
                        Some(Err(_)) | None => return None,
                    }
                }
                _ = heartbeat.tick() => {
                    if self.last_heard.elapsed() >= idle {
                        return Some(CloseCode::HeartbeatTimeout);
                    }
                    // Written by the outbox branch, like everything else.
                    self.outbox.push(Outgoing {
                        msg: Message::Ping(Default::default()),
                        lane: Lane::High,
                        since: 0,
                        upto: 0,
                        generation: 0,
                    });
                }
            }
        }
    }

    /// Before a 4000 close: answers the comments already taken (their
    /// `ack`, or their error), waiting up to [`CLOSE_WRITE_TIMEOUT`] for
    /// the commits; the answers go out ahead of the close frame.
    async fn settle_acks(&mut self) {
        let deadline = Instant::now() + CLOSE_WRITE_TIMEOUT;
        while !self.acks.is_empty() {
            match tokio::time::timeout_at(deadline, self.acks.next()).await {
                Ok(Some((id, out))) => self.finish_comment(id, out),
                Ok(None) | Err(_) => break,
            }
        }
    }

    /// Registers the session's user when it is not yet registered under
    /// it: the (boxed, rare) registration only runs after a sign-in, not
    /// after every message.
    async fn register_if_signed_in(&mut self) {
        let user = self.identity.as_ref().map(|i| i.user.as_str());
        if user.is_some() && user != self.registered.as_deref() {
            Box::pin(self.register_user()).await;
        }
    }

    /// Makes the session reachable by targeted events for its user.
    async fn register_user(&mut self) {
        let Some(user) = self.identity.as_ref().map(|i| i.user.clone()) else {
            return;
        };
        if self.registered.as_deref() == Some(user.as_str()) {
            return;
        }
        self.unregister_user().await;
        let node = self.node.clone();
        if node
            .hubs
            .users
            .add(&user, self.id, self.outbox.clone(), self.codec)
            && let Err(e) = node
                .store
                .add_user_node(std::slice::from_ref(&user), &node.settings.node_id)
                .await
        {
            // The heartbeat lists this node for its users again.
            node.hubs.users.mark_stale();
            tracing::warn!(user, error = %e, "user directory not updated");
        }
        self.registered = Some(user);
    }

    async fn unregister_user(&mut self) {
        let Some(user) = self.registered.take() else {
            return;
        };
        let node = self.node.clone();
        if !node.hubs.users.remove(&user, self.id) {
            return;
        }
        let id = &node.settings.node_id;
        if let Err(e) = node.store.remove_user_node(&user, id).await {
            // A stale entry costs one wasted publish to this node.
            tracing::warn!(user, error = %e, "user directory not updated");
            return;
        }
        // A new session of the user may have listed this node while the
        // removal was on its way (a quick reconnect, or a removal held up by
        // a store reconnect): the removal may have landed after that
        // listing, so list the node again.
        if node.hubs.users.count(&user) > 0
            && let Err(e) = node
                .store
                .add_user_node(std::slice::from_ref(&user), id)
                .await
        {
            node.hubs.users.mark_stale();
            tracing::warn!(user, error = %e, "user directory not updated");
        }
    }

    fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.node.settings.write_timeout_ms)
    }

    /// Writes everything queued, holding the socket's claim until nothing
    /// is left; returns a close code the outbox asked for. What a write cut
    /// short leaves (the rest of a frame) goes back to the outbox, so the
    /// close frame follows whole frames.
    async fn write_queue(&mut self) -> std::io::Result<Option<CloseCode>> {
        let Some(sock) = self.outbox.socket().cloned() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        let mut bufs: Vec<bytes::Bytes> = Vec::new();
        let view = self.view();
        let outbox = &*self.outbox;
        let write = async {
            loop {
                match outbox.begin_write() {
                    Err(code) => return Ok(Some(code)),
                    Ok(None) => return Ok(None),
                    Ok(Some(taken)) => {
                        bufs = view.frames(taken);
                        wire::write_all(&sock, &mut bufs).await?;
                    }
                }
            }
        };
        let out = tokio::select! {
            r = tokio::time::timeout(self.write_timeout(), write) => match r {
                Ok(r) => r,
                Err(_) => Ok(Some(CloseCode::SlowConsumer)),
            },
            code = outbox.closing() => Ok(Some(code)),
        };
        if !bufs.is_empty() {
            self.outbox.unwrite(bufs);
        }
        out
    }

    fn view(&self) -> View {
        View {
            generation: self.generation,
            skip: self.skip_upto,
            codec: self.codec,
        }
    }

    fn hello(&self) -> Hello {
        let s = &self.node.settings;
        Hello {
            session: self.id.to_string(),
            user: self.identity.as_ref().map(|i| i.user.clone()),
            heartbeat_ms: s.heartbeat_ms,
            idle_timeout_ms: s.idle_timeout_ms,
            max_frame_bytes: s.max_frame_bytes as u64,
            max_comment_chars: s.max_comment_chars as u64,
        }
    }

    /// Queues a reply to this session (high lane, never sampled).
    fn reply(&self, frame: ServerFrame) {
        self.outbox.push(self.outgoing(frame));
    }

    /// Queues a reply encoded elsewhere (the node's shared shelf copy).
    fn reply_bytes(&self, bytes: Vec<u8>) {
        let bytes = bytes::Bytes::from(bytes);
        let msg = match self.codec {
            protocol::Codec::Json => {
                match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(bytes.clone()) {
                    Ok(text) => Message::Text(text),
                    Err(_) => Message::Binary(bytes),
                }
            }
            protocol::Codec::Binary => Message::Binary(bytes),
        };
        self.outbox.push(Outgoing {
            msg,
            lane: Lane::High,
            since: 0,
            upto: 0,
            generation: 0,
        });
    }

    fn outgoing(&self, frame: ServerFrame) -> Outgoing {
        Outgoing {
            msg: encode_message(self.codec, &frame),
            lane: Lane::High,
            since: 0,
            upto: 0,
            generation: 0,
        }
    }

    fn limiter(&mut self) -> &DefaultDirectRateLimiter {
        let s = &self.node.settings;
        let rate = NonZeroU32::new(s.request_rate).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(s.request_burst).unwrap_or(rate);
        self.limiter.get_or_insert_with(|| {
            Box::new(crate::clock::direct_limiter(
                Quota::per_second(rate).allow_burst(burst),
            ))
        })
    }
}

/// What decides which queued frames a session still wants.
#[derive(Clone, Copy)]
struct View {
    generation: u32,
    skip: u64,
    codec: Codec,
}

impl View {
    /// The wire buffers of what the writer took: raw bytes, then each
    /// queued frame this session still wants (frames of a room it left are
    /// dropped, and the first frames after a join lose the events its
    /// snapshot holds).
    fn frames(self, taken: Taken) -> Vec<bytes::Bytes> {
        let mut bufs = Vec::with_capacity(taken.raw.len() + 2 * taken.queue.len());
        bufs.extend(taken.raw);
        for out in taken.queue {
            if out.generation == 0 {
                wire::push_frame(&mut bufs, &out.msg);
            } else if out.generation == self.generation && (out.upto == 0 || out.upto > self.skip) {
                // upto 0: a totals-only batch, which carries no events.
                if out.upto > self.skip && out.since < self.skip {
                    wire::push_frame(&mut bufs, &trim_before(self.codec, out.msg, self.skip));
                } else {
                    wire::push_frame(&mut bufs, &out.msg);
                }
            }
        }
        bufs
    }
}

/// Drops the events a join snapshot already holds from a room frame that
/// straddles the snapshot offset (only the first frames after a join).
fn trim_before(codec: Codec, msg: Message, skip: u64) -> Message {
    let decoded = match &msg {
        Message::Text(t) => codec.decode_server(t.as_bytes()),
        Message::Binary(b) => codec.decode_server(b),
        _ => return msg,
    };
    match decoded {
        Ok(ServerFrame::Batch(mut b)) => {
            b.events.retain(|e| e.offset > skip);
            b.since = b.since.max(skip);
            encode_message(codec, &ServerFrame::Batch(b))
        }
        _ => msg,
    }
}

fn close_label(code: CloseCode) -> &'static str {
    match code {
        CloseCode::Normal => "1000",
        CloseCode::MessageTooBig => "1009",
        CloseCode::InvalidPayload => "1007",
        CloseCode::ShuttingDown => "4000",
        CloseCode::SlowConsumer => "4001",
        CloseCode::HeartbeatTimeout => "4002",
        CloseCode::InternalError => "4003",
        CloseCode::Resync => "4004",
        CloseCode::StoreLost => "4005",
        CloseCode::AuthFailed => "4100",
        CloseCode::Banned => "4101",
        CloseCode::ProtocolViolation => "4102",
    }
}
