//! The session's half of the request path: decode and size limits, then
//! authorize, rate limit, moderation, store and bus for each request type.

use std::sync::Arc;

use governor::clock::Clock;
use protocol::event::ErrorReply;
use protocol::{
    Ack, ClientFrame, CloseCode, Comment, DecodeKind, ErrorCode, EventKind, Join, Joined, Pong,
    Rejection, Request, RequestId, Role, RoomStatus, ServerFrame,
};
use tokio_tungstenite::tungstenite::Message;

use super::{Flow, JoinedRoom, Session};
use crate::auth::{Action, authorize};
use crate::clock::now_ms;
use crate::commerce;
use crate::hub::Member;
use crate::hub::recent::newest_comments;
use crate::lotteries;
use crate::moderation::limits::slow_mode_rejection;
use crate::moderation::{self, Actor, check_comment, check_like, slow_mode_ms};
use crate::room::{Room, Transition};
use crate::store::{Appended, LogPosition, PendingComment, Replay};

/// How long a resume waits for the room hub's answer before it reads the
/// log itself (the hub answers within a tick or two unless it is stuck).
const REPLAY_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Session {
    pub(super) async fn on_message(&mut self, msg: Message) -> Flow {
        let data = match &msg {
            Message::Text(t) => t.as_bytes(),
            Message::Binary(b) => b.as_ref(),
            Message::Close(_) => return Flow::Close(CloseCode::Normal),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Flow::Continue,
        };
        // Over `max_frame_bytes`, only a `signal` (an SDP) passes, up to
        // its own limit; anything else is `too_large`.
        let over = self.node.limits.check_frame_len(data.len()).err();
        if let Some(r) = over.clone()
            && (data.len() > crate::costream::relay::max_signal_frame(&self.node.settings)
                || !matches!(
                    self.codec.decode_client(data),
                    Ok(ClientFrame {
                        request: Request::Signal(_),
                        ..
                    })
                ))
        {
            return self.refuse_malformed(r);
        }
        let frame = match self.codec.decode_client(data) {
            Ok(f) => f,
            // A known request with an unknown enum value: a field out of
            // its limits, answered like any other `invalid`.
            Err(e) if e.kind() == DecodeKind::UnknownValue => {
                let id = e
                    .id()
                    .cloned()
                    .filter(|id| self.node.limits.check_id_len(id));
                self.reject(id, e.rejection());
                return Flow::Continue;
            }
            Err(e) => return self.refuse_malformed(e.rejection()),
        };
        let label = vec![("type", frame.request.tag())];
        self.node.metrics.requests.get_or_create(&label).inc();
        // Field limits come before the rate limit: an `invalid` request
        // uses no request budget. An invalid id is not echoed.
        if let Err(r) = self.check_fields(&frame) {
            let id = frame.id.filter(|id| self.node.limits.check_id_len(id));
            self.reject(id, r);
            return Flow::Continue;
        }
        let id = frame.id.clone();
        match self.handle(frame).await {
            Ok(Some(reply)) => self.reply(reply),
            Ok(None) => {}
            Err(r) => self.reject(id, r),
        }
        Flow::Continue
    }

    /// Every field limit of a decoded frame, the lottery terms included.
    fn check_fields(&self, frame: &ClientFrame) -> Result<(), Rejection> {
        self.node.limits.check_frame(frame)?;
        if let Request::LotteryCreate(terms) = &frame.request {
            let room = self.joined.as_ref().map_or("room", |j| j.room.as_str());
            lotteries::check_terms(room, terms)?;
        }
        if let Request::Costream(c) = &frame.request {
            crate::costream::ws::check_fields(&self.node.limits, c)?;
        }
        if let Request::Link(l) = &frame.request {
            crate::costream::ws::check_link_fields(&self.node.limits, l)?;
        }
        Ok(())
    }

    fn refuse_malformed(&mut self, r: Rejection) -> Flow {
        self.malformed += 1;
        self.reject(None, r);
        if self.malformed > self.node.settings.malformed_budget {
            Flow::Close(CloseCode::ProtocolViolation)
        } else {
            Flow::Continue
        }
    }

    /// Sends the answer of a comment whose batch committed.
    pub(super) fn finish_comment(
        &self,
        id: Option<RequestId>,
        out: Result<ServerFrame, Rejection>,
    ) {
        match out {
            Ok(ServerFrame::Ack(mut a)) => {
                a.id = id;
                self.reply(ServerFrame::Ack(a));
            }
            Ok(other) => self.reply(other),
            Err(r) => self.reject(id, r),
        }
    }

    fn reject(&self, id: Option<RequestId>, r: Rejection) {
        let label = vec![("code", r.code.as_str())];
        self.node.metrics.rejections.get_or_create(&label).inc();
        self.reply(ServerFrame::Error(ErrorReply::new(id, r)));
    }

    async fn handle(&mut self, frame: ClientFrame) -> Result<Option<ServerFrame>, Rejection> {
        // Signalling has its own rate (`costream_signal_rate`, per party).
        if !matches!(frame.request, Request::Signal(_)) {
            self.rate_limit()?;
        }
        let id = frame.id;
        let reply = match frame.request {
            Request::Ping(_) => Ok(ServerFrame::Pong(Pong { id, ts: now_ms() })),
            Request::Auth(a) => {
                if self.joined.is_some() {
                    return Err(Rejection::new(ErrorCode::Invalid, "sign in before joining"));
                }
                self.identity = Some(self.node.keys.verify(&a.token, &self.node.limits)?);
                Ok(ack(id, None))
            }
            Request::Join(j) => return self.join(id, j).await,
            Request::Leave(_) => {
                self.leave(true).await;
                Ok(ack(id, None))
            }
            Request::Comment(c) => return self.comment(id, c.text).await.map(|()| None),
            Request::Like(l) => self.like(id, l.count).await,
            Request::Live(l) => {
                let (room, _) = self.authorized(Action::from_live(l.action))?;
                let updated = self
                    .node
                    .transition(&room.id, Transition::Live(l.action))
                    .await?;
                Ok(ServerFrame::Ack(Ack {
                    id,
                    event: None,
                    status: Some(updated.status),
                }))
            }
            Request::LotteryCreate(terms) => {
                let (room, _) = self.authorized(Action::Lottery)?;
                lotteries::ws::create(&self.node, &room, id, terms).await
            }
            Request::SetPreview(p) => {
                let (room, _) = self.authorized(Action::Preview)?;
                let preview = crate::room::preview::RoomPreview {
                    text: p.text,
                    image_url: p.image_url,
                    keep_after_start: p.keep_after_start,
                };
                self.node.set_preview(&room.id, Some(preview)).await?;
                Ok(ack(id, None))
            }
            Request::ClearPreview(_) => {
                let (room, _) = self.authorized(Action::Preview)?;
                self.node.set_preview(&room.id, None).await?;
                Ok(ack(id, None))
            }
            Request::ReminderSubscribe(r) => {
                crate::reminder::ws::handle(&self.node, self.identity.as_ref(), id, r, true).await
            }
            Request::ReminderUnsubscribe(r) => {
                crate::reminder::ws::handle(&self.node, self.identity.as_ref(), id, r, false).await
            }
            Request::PushNotice(n) => {
                let (room, _) = self.authorized(Action::Notice)?;
                crate::notice::ws::push(&self.node, &room, id, n).await
            }
            Request::WithdrawNotice(w) => {
                let (room, _) = self.authorized(Action::Notice)?;
                crate::notice::ws::withdraw(&self.node, &room, id, w).await
            }
            Request::Costream(c) => {
                let (room, _) = self.authorized(crate::costream::ws::action(&c))?;
                let who = self.signed_in("co-stream")?;
                crate::costream::ws::handle(&self.node, who, &room, id, c).await
            }
            Request::Link(l) => {
                let (room, _) = self.authorized(Action::CostreamHost)?;
                crate::costream::ws::link(&self.node, &room, id, l).await
            }
            Request::Signal(s) => {
                let (room, _) = self.authorized(Action::Watch)?;
                let who = self.signed_in("co-stream")?;
                crate::costream::ws::signal(&self.node, who, &room, id, s).await
            }
            Request::LotteryStart(s) => {
                let (room, _) = self.authorized(Action::Lottery)?;
                lotteries::ws::start(&self.node, &room, id, s).await
            }
            Request::LotteryProof(p) => {
                let (room, _) = self.authorized(Action::Watch)?;
                let who = self.signed_in("fetch a lottery proof")?;
                let proof = self
                    .node
                    .lottery_proof(&room.id, &p.lottery, &who.user, id)
                    .await?;
                Ok(ServerFrame::LotteryProof(proof))
            }
            Request::Shelf(_) => {
                let (room, _) = self.authorized(Action::Watch)?;
                let bytes = self
                    .node
                    .shelf_reply(&room, self.codec, id.as_ref())
                    .await?;
                self.reply_bytes(bytes);
                return Ok(None);
            }
            r @ (Request::GoodsPut(_)
            | Request::GoodsRemove(_)
            | Request::GoodsReorder(_)
            | Request::GoodsSwitch(_)
            | Request::CardPush(_)
            | Request::CardWithdraw(_)
            | Request::Explain(_)
            | Request::Grab(_)
            | Request::GoodsClick(_)
            | Request::CouponPush(_)
            | Request::CouponClaim(_)) => {
                let (room, _) = self.authorized(commerce::ws::action(&r))?;
                let user = self.identity.as_ref().map(|i| i.user.as_str());
                commerce::ws::handle(&self.node, user, &room, id, r).await
            }
            r @ (Request::DeleteComment(_)
            | Request::Mute(_)
            | Request::Unmute(_)
            | Request::SetRole(_)
            | Request::Switch(_)
            | Request::Words(_)
            | Request::AllowWords(_)
            | Request::Mutes(_)) => self.moderate(id, r).await,
        };
        reply.map(Some)
    }

    /// A moderation request: authorized here against the caller's current
    /// role, then run by the moderation slice.
    async fn moderate(
        &mut self,
        id: Option<RequestId>,
        request: Request,
    ) -> Result<ServerFrame, Rejection> {
        let (room, role) = self.authorized(moderation::ws::action(&request))?;
        let actor = Actor {
            user: self
                .identity
                .as_ref()
                .map_or_else(String::new, |i| i.user.clone()),
            role,
        };
        moderation::ws::handle(&self.node, &actor, &room, id, request).await
    }

    /// The signed-in caller, for requests anonymous viewers may not make.
    fn signed_in(&self, what: &str) -> Result<&crate::auth::Identity, Rejection> {
        self.identity
            .as_ref()
            .ok_or_else(|| Rejection::new(ErrorCode::Unauthenticated, format!("sign in to {what}")))
    }

    fn rate_limit(&mut self) -> Result<(), Rejection> {
        self.limiter().check().map_err(|not_until| {
            let wait = not_until.wait_time_from(crate::clock::limiter_clock().now());
            Rejection::rate_limited(wait.as_millis().max(1) as u64)
        })
    }

    /// The joined room as its hub holds it now and the caller's current
    /// role in it (roles change while a session stays joined), after
    /// authorizing `action` for that role. No store read: the hub keeps the
    /// record current from the room's events.
    pub(super) fn authorized(&self, action: Action) -> Result<(Arc<Room>, Role), Rejection> {
        let j = self
            .joined
            .as_ref()
            .ok_or_else(|| Rejection::new(ErrorCode::NotJoined, "join a room first"))?;
        let room = j.hub.room();
        let role = room.role_of(self.identity.as_ref().map(|i| i.user.as_str()));
        authorize(role, action)?;
        Ok((room, role))
    }

    async fn join(
        &mut self,
        id: Option<RequestId>,
        req: Join,
    ) -> Result<Option<ServerFrame>, Rejection> {
        // Re-joining the same room (to recover, say) is not the anchor leaving it.
        let same_room = self.joined.as_ref().is_some_and(|j| j.room == req.room);
        self.leave(!same_room).await;
        let node = self.node.clone();
        // The room as this node's hub holds it, or (first joiner here) as stored.
        let room = match node.hubs.get(&req.room) {
            Some(h) => (*h.room()).clone(),
            None => node
                .store
                .room(&req.room)
                .await
                .map_err(|e| e.rejection())?,
        };
        let role = room.role_of(self.identity.as_ref().map(|i| i.user.as_str()));
        authorize(role, Action::Watch)?;
        if role == Role::Anonymous && !room.switches.anonymous_watch {
            return Err(Rejection::new(
                ErrorCode::WatchNotAllowed,
                "this room needs a signed-in viewer",
            ));
        }
        if room.status == RoomStatus::Banned {
            return Err(Rejection::new(ErrorCode::Forbidden, "this room is banned"));
        }
        self.generation = self.generation.wrapping_add(1).max(1);
        let member = Member {
            session: self.id,
            outbox: self.outbox.clone(),
            codec: self.codec,
            generation: self.generation,
        };
        let hub = node
            .hubs
            .join(&room.id, member)
            .await
            .map_err(|e| e.rejection())?;
        self.joined = Some(JoinedRoom {
            room: room.id.clone(),
            hub,
            anchor_counted: false,
        });
        if let Some(i) = &self.identity {
            // A co-stream party back within the grace: the same session.
            node.costream_back(&room, &i.user).await;
        }
        let viewer = match &self.identity {
            Some(i) => i.user.clone(),
            None => format!("anon:{}:{}", node.settings.node_id, self.id),
        };
        node.dashboard.joined(&room.id);
        let hub = self.joined.as_ref().map(|j| j.hub.clone());
        let gate = match &hub {
            Some(h) => Some(h.viewers_gate.read().await),
            None => None,
        };
        match node.store.add_viewer(&room.id, &viewer).await {
            Ok(true) => {
                if let Some(h) = &hub {
                    h.viewer_added();
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(room = %room.id, error = %e, "viewer not counted"),
        }
        drop(gate);
        // From here on a failure must leave the hub again: `leave` does.
        // The hub answers from memory when it can (a join storm costs the
        // room's shard a GET and a PFADD per viewer), else the store.
        let recent = node.settings.recent_comments;
        // As recent as the store's: the hub answers once it has released
        // the head read now (one GET), usually within a tick.
        let held = match (&self.joined, node.store.head_offset(&room.id).await) {
            (Some(j), Ok(head)) => j.hub.snapshot(recent, head, REPLAY_WAIT).await,
            _ => None,
        };
        let from_hub = held.is_some();
        let label = vec![("source", if from_hub { "hub" } else { "store" })];
        node.metrics.snapshots.get_or_create(&label).inc();
        let snap = match held {
            Some(s) => s,
            None => match node.store.snapshot(&room.id, recent).await {
                Ok(s) => s,
                Err(e) => {
                    self.leave(false).await;
                    return Err(e.rejection());
                }
            },
        };
        if let Some(j) = &self.joined {
            j.hub.offer_record(&snap.room);
        }
        let mut joined = Joined {
            id,
            room: snap.room.info(),
            role,
            epoch: snap.position.epoch.clone(),
            offset: snap.position.offset,
            totals: snap.totals,
            recent: snap.recent,
            recovered: None,
            missed: vec![],
            lotteries: node.open_lotteries(&snap.room).await,
            preview: snap.room.shown_preview(),
            commerce: snap.room.commerce.view(now_ms()),
            notice: crate::notice::shown(&snap.room, now_ms()),
            costream: Box::new(crate::costream::view(
                &snap.room,
                self.identity.as_ref().map(|i| i.user.as_str()),
            )),
            pk: crate::costream::pk::current(&snap.room).map(Box::new),
        };
        // From the hub, `online` is the room's count at its last tick; the
        // hub writes this node's new presence at its next one.
        if !from_hub {
            if let Some(j) = &self.joined {
                node.report_presence(&room.id, &j.hub).await;
            }
            joined.totals.online = match node.store.presence(&room.id, now_ms()).await {
                Ok(p) => p.online,
                Err(_) => node.hubs.online(&room.id) as u64,
            };
        }
        if let Some(resume) = req.resume {
            let from = LogPosition {
                epoch: resume.epoch,
                offset: resume.offset,
            };
            let hub = self.joined.as_ref().map(|j| j.hub.clone());
            let held = match hub {
                Some(h) => {
                    h.replay(&from.epoch, from.offset, joined.offset, REPLAY_WAIT)
                        .await
                }
                None => None,
            };
            let source = if held.is_some() { "hub" } else { "log" };
            let label = vec![("source", source)];
            node.metrics.resumes.get_or_create(&label).inc();
            let replay = match held {
                Some(events) => Ok(Replay::Recovered(events)),
                None => node.store.replay(&room.id, &from).await.map(|r| match r {
                    Replay::Recovered(events) => {
                        Replay::Recovered(newest_comments(events, node.settings.recent_comments))
                    }
                    other => other,
                }),
            };
            match replay {
                Ok(Replay::Recovered(missed)) => {
                    joined.offset = missed
                        .last()
                        .map_or(joined.offset, |e| e.offset.max(joined.offset));
                    joined.recent.clear();
                    joined.missed = missed;
                    joined.recovered = Some(true);
                }
                Ok(Replay::NotRecovered) => joined.recovered = Some(false),
                Err(e) => {
                    tracing::warn!(room = %room.id, error = %e, "replay failed");
                    joined.recovered = Some(false);
                }
            }
        }
        self.skip_upto = joined.offset;
        if role == Role::Anchor
            && let Some(j) = &mut self.joined
        {
            j.hub.anchor_joined();
            j.anchor_counted = true;
            node.report_presence(&room.id, &j.hub).await;
        }
        // The snapshot goes out before any room frame queued meanwhile.
        self.outbox
            .push_front(self.outgoing(ServerFrame::Joined(joined)));
        // Only now may the hub write this room's frames directly: they
        // follow the snapshot, and need no trimming past its offset.
        self.outbox.set_view(self.generation, self.skip_upto);
        Ok(None)
    }

    /// Leaves the joined room, if any. With `anchor_check`, an anchor's
    /// leaving may make the room abnormal (its last connection is gone).
    pub(super) async fn leave(&mut self, anchor_check: bool) {
        let Some(j) = self.joined.take() else {
            return;
        };
        j.hub.leave(self.id, j.anchor_counted);
        if let Some(i) = &self.identity {
            let here = self.node.hubs.users.count(&i.user);
            self.node.costream_left(&j.hub.room(), &i.user, here).await;
        }
        if j.anchor_counted {
            if anchor_check {
                self.node.anchor_left(&j.room, &j.hub).await;
            } else {
                self.node.report_presence(&j.room, &j.hub).await;
            }
        }
    }

    /// Checks a comment and queues it for the room's next batch, in the
    /// order the session sent it. The ack (or the refusal decided in the
    /// store: muted, slow mode) goes out when the batch commits, without
    /// holding up the session's later requests.
    async fn comment(&mut self, id: Option<RequestId>, text: String) -> Result<(), Rejection> {
        let identity = self
            .identity
            .as_ref()
            .ok_or_else(|| Rejection::new(ErrorCode::Unauthenticated, "sign in to comment"))?;
        let (room, role) = self.authorized(Action::Comment)?;
        if self.acks.len() >= MAX_PENDING_ACKS {
            return Err(Rejection::rate_limited(self.node.settings.tick_ms.max(1)));
        }
        let text = check_comment(&self.node, &room, role, &identity.user, text).await?;
        // Assistants comment under the nickname they were given.
        let nick = match room.moderation.assistant_nick(&identity.user) {
            Some(n) if role == Role::Assistant => n,
            _ => &identity.nick,
        };
        let comment = Comment {
            user: identity.user.clone(),
            nick: nick.to_string(),
            text,
            role,
        };
        let pending = PendingComment {
            ts: now_ms(),
            comment: comment.clone(),
            slow_mode_ms: slow_mode_ms(&room, role),
        };
        let hub = self.joined.as_ref().map(|j| j.hub.clone());
        let hub = hub.ok_or_else(|| Rejection::new(ErrorCode::NotJoined, "join a room first"))?;
        let committed = hub.append(pending)?;
        let node = self.node.clone();
        let fut = async move {
            let answer = match committed.await {
                Ok(a) => a,
                Err(_) => Err(Rejection::new(
                    ErrorCode::Unavailable,
                    "room is restarting, retry",
                )),
            };
            let out = match answer {
                Ok(a) => answer_comment(&node, &room, role, comment, a).await,
                Err(r) => Err(r),
            };
            (id, out)
        };
        self.acks.push(Box::pin(fut));
        Ok(())
    }

    async fn like(&mut self, id: Option<RequestId>, count: u32) -> Result<ServerFrame, Rejection> {
        if self.identity.is_none() {
            return Err(Rejection::new(
                ErrorCode::Unauthenticated,
                "sign in to like",
            ));
        }
        let (room, role) = self.authorized(Action::Like)?;
        check_like(&room)?;
        if let (Role::Viewer, Some(i)) = (role, &self.identity) {
            self.node.lottery_participate(&room, &i.user, None).await;
        }
        if let Some(j) = &self.joined {
            j.hub.add_likes(u64::from(count));
        }
        Ok(ack(id, None))
    }
}

/// Most comments of one session waiting for their batch at a time.
const MAX_PENDING_ACKS: usize = 64;

/// The answer to a comment whose batch committed: the ack with the logged
/// event, a synthetic one for a shadow-muted sender, or the refusal.
async fn answer_comment(
    node: &crate::service::Node,
    room: &Room,
    role: Role,
    comment: Comment,
    answer: Appended,
) -> Result<ServerFrame, Rejection> {
    match answer {
        Appended::Logged(event) => {
            // Only viewers take part in lotteries, with what was delivered.
            if role == Role::Viewer {
                node.lottery_participate(room, &comment.user, Some(&comment.text))
                    .await;
            }
            Ok(ack(None, Some(event)))
        }
        // Shadow mute: the sender sees an ordinary ack; the comment is
        // neither logged nor published. Offset 0 is never a log offset.
        Appended::Shadow => Ok(ack(
            None,
            Some(protocol::RoomEvent {
                offset: 0,
                ts: now_ms(),
                kind: EventKind::Comment(comment),
            }),
        )),
        Appended::Muted(m) => Err(m.rejection(now_ms())),
        Appended::SlowMode(wait) => Err(slow_mode_rejection(room.moderation.slow_mode_s, wait)),
        Appended::RateLimited(wait) => Err(Rejection {
            code: ErrorCode::RateLimited,
            message: "too many comments".into(),
            retry_after_ms: Some(wait),
        }),
    }
}

/// An `ack` reply, with the logged event when there is one.
pub(crate) fn ack(id: Option<RequestId>, event: Option<protocol::RoomEvent>) -> ServerFrame {
    ServerFrame::Ack(Ack {
        id,
        event,
        status: None,
    })
}
