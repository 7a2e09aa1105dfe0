//! One WebSocket connection: a single task that reads client frames, runs
//! them through the request path, writes its outbox, keeps the heartbeat and
//! closes with a documented code. Generic over `Sink`/`Stream`, so the same
//! loop runs over a socket in production and over channels in tests.

mod requests;

pub(crate) use requests::ack;

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use protocol::event::ErrorReply;
use protocol::{CloseCode, Codec, Hello, Lane, Rejection, RequestId, ServerFrame};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth::Identity;
use crate::hub::HubHandle;
use crate::hub::fanout::encode_message;
use crate::hub::outbox::{Outbox, Outgoing};
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
    acks: FuturesUnordered<PendingAck>,
}

enum Flow {
    Continue,
    Close(CloseCode),
}

impl Session {
    /// A session for a connection that presented `identity` (or none).
    pub fn new(node: Arc<Node>, identity: Option<Identity>, codec: Codec) -> Self {
        let outbox = Arc::new(Outbox::new(node.settings.outbox_bytes));
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
            acks: FuturesUnordered::new(),
        }
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
            // close, unless the socket is what is stuck.
            let frame = CloseFrame {
                code: code.code().into(),
                reason: code.reason().into(),
            };
            let limit = CLOSE_WRITE_TIMEOUT.min(self.write_timeout());
            let closing = async {
                if code != CloseCode::SlowConsumer {
                    self.write_queue(&mut ws).await?;
                }
                ws.send(Message::Close(Some(frame))).await
            };
            let _ = tokio::time::timeout(limit, Box::pin(closing)).await;
            let label = vec![("code", close_label(code))];
            metrics.closes.get_or_create(&label).inc();
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
                () = &mut turn => return Some(CloseCode::ShuttingDown),
                Some((id, out)) = self.acks.next(), if !self.acks.is_empty() => {
                    self.finish_comment(id, out);
                }
                _ = outbox.ready() => match self.write_queue(ws).await {
                    Ok(None) => {}
                    Ok(Some(code)) => return Some(code),
                    Err(_) => return None,
                },
                msg = ws.next() => {
                    self.last_heard = Instant::now();
                    match msg {
                        Some(Ok(m)) => {
                            let flow = Box::pin(self.on_message(m)).await;
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
                    let ping = tokio::time::timeout(self.write_timeout(), ws.send(Message::Ping(Default::default())));
                    if !matches!(Box::pin(ping).await, Ok(Ok(()))) {
                        return None;
                    }
                }
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
        if node.hubs.users.remove(&user, self.id)
            && let Err(e) = node
                .store
                .remove_user_node(&user, &node.settings.node_id)
                .await
        {
            // A stale entry costs one wasted publish to this node.
            tracing::warn!(user, error = %e, "user directory not updated");
        }
    }

    fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.node.settings.write_timeout_ms)
    }

    /// Writes everything queued; returns a close code the outbox asked for.
    async fn write_queue<S>(&mut self, ws: &mut S) -> Result<Option<CloseCode>, WsError>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        let (queue, close) = self.outbox.drain();
        if close.is_some() {
            return Ok(close);
        }
        let (generation, skip, codec) = (self.generation, self.skip_upto, self.codec);
        let write = async {
            for out in queue {
                if out.generation == 0 {
                    ws.feed(out.msg).await?;
                } else if out.generation == generation && (out.upto == 0 || out.upto > skip) {
                    // upto 0: a totals-only batch, which carries no events.
                    let msg = if out.upto > skip && out.since < skip {
                        trim_before(codec, out.msg, skip)
                    } else {
                        out.msg
                    };
                    ws.feed(msg).await?;
                }
            }
            ws.flush().await
        };
        tokio::select! {
            r = tokio::time::timeout(self.write_timeout(), write) => match r {
                Ok(r) => r.map(|()| None),
                Err(_) => Ok(Some(CloseCode::SlowConsumer)),
            },
            code = self.outbox.closing() => Ok(Some(code)),
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
            Box::new(RateLimiter::direct(
                Quota::per_second(rate).allow_burst(burst),
            ))
        })
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
