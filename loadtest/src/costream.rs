//! One co-stream negotiation, both parties in one task (one clock stamps
//! and reads every send time): during the ramp the anchor and the guest
//! connect to their two targets and take the co-stream live (enable,
//! apply, accept, confirm, confirm); when the traffic starts the anchor
//! sends its offer and trickles its candidates and `end_of_candidates`,
//! and the guest, once the offer is in, does the same with its answer. Every
//! `signal` event is checked against its sender: the session, `from`, `seq`
//! 1, 2, 3... with no gap or step back, and the index embedded in the
//! payload; its relay latency goes into the pair's samples.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::costream::{
    CostreamAction, CostreamPhase, CostreamRequest, CostreamStep, Media, Signal, SignalEvent,
    SignalKind,
};
use protocol::{ClientFrame, Codec, ErrorCode, EventKind, Request, RequestId, ServerFrame};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{self, Dial, Ws, now_micros};
use crate::plan::{CostreamCounts, PairPlan};
use crate::scenario::Costream;
use crate::sdp;
use crate::sender::code_name;
use crate::worker::{Ctx, DRAIN_S};

/// Tries of a setup step the store may not see yet (100 ms apart).
const SETUP_TRIES: u32 = 50;

/// Longest wait for the reply to one request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// What one negotiation measured.
#[derive(Debug, Default)]
pub struct PairStats {
    /// Counts (`pairs` = 1; histograms left empty).
    pub counts: CostreamCounts,
    /// Relay latencies of the signals received, µs.
    pub latencies: Vec<u64>,
    /// Connect → co-stream live, µs.
    pub setup_us: Option<u64>,
    /// First offer sent → both parties' last message received, µs.
    pub negotiation_us: Option<u64>,
}

/// One party's connection, what it sends and what it got from the other.
struct Party {
    ws: Ws,
    codec: Codec,
    user: String,
    peer: String,
    /// The guest: answers, and starts once the offer is in.
    answerer: bool,
    /// Messages of this party's round (0 until it starts).
    total: u64,
    /// Messages written so far.
    written: u64,
    /// When the next one is due.
    due: Option<Instant>,
    /// Unix µs the `end_of_candidates` went out (it has no payload to carry it).
    eoc_sent_us: Option<u64>,
    /// Own signals acked and refused.
    acked: u64,
    refused: u64,
    /// From the peer: last `seq`, last embedded index, messages, done.
    last_seq: u64,
    last_n: u64,
    received: u64,
    got_eoc: bool,
}

impl Party {
    fn begin(&mut self, total: u64, at: Instant) {
        if self.total == 0 {
            self.total = total;
            self.due = Some(at);
        }
    }

    fn done(&self) -> bool {
        self.total > 0 && self.written == self.total && self.acked + self.refused == self.written
    }
}

/// Runs pair `plan` to the end of the drain.
pub async fn run(ctx: Arc<Ctx>, plan: PairPlan) -> PairStats {
    let mut st = PairStats::default();
    st.counts.pairs = 1;
    let Some(cs) = ctx.plan.costream.clone() else {
        return st;
    };
    let t0 = Instant::now();
    let setup = tokio::time::timeout_at(ctx.traffic_start(), setup(&ctx, &plan));
    let (mut anchor, mut guest, session) = match setup.await {
        Ok(Ok(ready)) => ready,
        Ok(Err(e)) => {
            st.counts
                .errors
                .push(format!("{}: setup: {e:#}", plan.room));
            return st;
        }
        Err(_) => {
            st.counts.errors.push(format!(
                "{}: not live by the traffic start (raise costream.setup_s)",
                plan.room
            ));
            return st;
        }
    };
    st.setup_us = Some(t0.elapsed().as_micros() as u64);
    st.counts.live = 1;
    ctx.pairs_live.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = negotiate(&ctx, &cs, &plan, session, &mut anchor, &mut guest, &mut st).await {
        st.counts.errors.push(format!("{}: {e:#}", plan.room));
    }
    for (tx, rx) in [(&anchor, &guest), (&guest, &anchor)] {
        st.counts.lost += tx.acked.saturating_sub(rx.received);
    }
    for p in [&mut guest, &mut anchor] {
        let _ = tokio::time::timeout(Duration::from_secs(1), p.ws.close(None)).await;
    }
    st
}

/// Connects both parties and takes the co-stream live; returns them with
/// the session id.
async fn setup(ctx: &Ctx, plan: &PairPlan) -> anyhow::Result<(Party, Party, u64)> {
    let (anchor, guest) = tokio::join!(
        connect(ctx, plan, Role::Anchor),
        connect(ctx, plan, Role::Guest)
    );
    let (mut anchor, mut guest) = (anchor.context("anchor")?, guest.context("guest")?);
    step(&mut anchor, "enable", base(CostreamAction::Enable), &[]).await?;
    let apply = CostreamRequest {
        media: Some(Media::Video),
        ..base(CostreamAction::Apply)
    };
    step(&mut guest, "apply", apply, &[ErrorCode::CostreamDisabled]).await?;
    let accept = CostreamRequest {
        user: Some(plan.guest.clone()),
        ..base(CostreamAction::Accept)
    };
    let accepted = step(&mut anchor, "accept", accept, &[ErrorCode::NotFound]).await?;
    let session = accepted.context("accept: no step in the ack")?.session;
    let confirm = CostreamRequest {
        session: Some(session),
        ..base(CostreamAction::Confirm)
    };
    step(&mut anchor, "confirm", confirm.clone(), &[]).await?;
    let live = step(
        &mut guest,
        "confirm",
        confirm,
        &[ErrorCode::InvalidTransition],
    )
    .await?;
    match live {
        Some(s) if s.phase == CostreamPhase::Live => Ok((anchor, guest, session)),
        other => bail!("the guest's confirm left the session at {other:?}"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Anchor,
    Guest,
}

/// Connects one party of the pair to its target and joins the room.
async fn connect(ctx: &Ctx, plan: &PairPlan, role: Role) -> anyhow::Result<Party> {
    let codec = ctx.plan.codec.codec();
    let guest = role == Role::Guest;
    let (target, token, user, peer) = if guest {
        (
            plan.guest_target,
            &plan.guest_token,
            &plan.guest,
            &plan.anchor,
        )
    } else {
        (
            plan.anchor_target,
            &plan.anchor_token,
            &plan.anchor,
            &plan.guest,
        )
    };
    let sources = usize::from(ctx.plan.source_ips.max(1));
    let k = 2 * plan.index + usize::from(guest);
    let dial = Dial {
        url: &ctx.plan.targets[target],
        addr: ctx.addrs[target],
        source: Ipv4Addr::new(127, 0, 0, 2 + (k % sources) as u8),
        codec,
        token: Some(token),
        wire: ctx.plan.wire,
    };
    let permit = ctx.handshakes.acquire().await;
    let (ws, _) = conn::connect_and_join(&dial, &plan.room, None).await?;
    drop(permit);
    Ok(Party {
        ws,
        codec,
        user: user.clone(),
        peer: peer.clone(),
        answerer: guest,
        total: 0,
        written: 0,
        due: None,
        eoc_sent_us: None,
        acked: 0,
        refused: 0,
        last_seq: 0,
        last_n: 0,
        received: 0,
        got_eoc: false,
    })
}

fn base(action: CostreamAction) -> CostreamRequest {
    CostreamRequest {
        action,
        user: None,
        media: None,
        session: None,
        muted: None,
    }
}

/// Sends one `costream` step and waits for its reply, again (100 ms
/// later, at most [`SETUP_TRIES`] times) while it is refused with one of
/// `retry` (a step made on the other node a moment ago); returns the step
/// the ack carries.
async fn step(
    p: &mut Party,
    name: &str,
    req: CostreamRequest,
    retry: &[ErrorCode],
) -> anyhow::Result<Option<CostreamStep>> {
    for attempt in 1..=SETUP_TRIES {
        let id = format!("{name}-{attempt}");
        let frame = ClientFrame {
            id: Some(RequestId(id.clone())),
            request: Request::Costream(req.clone()),
        };
        p.ws.send(conn::encode(p.codec, &frame)?).await?;
        let reply = tokio::time::timeout(REPLY_TIMEOUT, reply_to(p, &id))
            .await
            .with_context(|| format!("{name}: no reply"))??;
        match reply {
            ServerFrame::Ack(a) => {
                return Ok(a.event.and_then(|e| match e.kind {
                    EventKind::CostreamStep(s) => Some(s),
                    _ => None,
                }));
            }
            ServerFrame::Error(e) if retry.contains(&e.code) && attempt < SETUP_TRIES => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            ServerFrame::Error(e) => bail!("{name} refused: {} {}", code_name(e.code), e.message),
            _ => unreachable!("reply_to returns acks and errors"),
        }
    }
    bail!("{name}: refused {SETUP_TRIES} times")
}

/// Reads until the ack or error of request `id` (other frames are skipped:
/// no signal comes before the negotiations start).
async fn reply_to(p: &mut Party, id: &str) -> anyhow::Result<ServerFrame> {
    loop {
        let msg = p.ws.next().await.context("closed")??;
        if let Message::Close(c) = &msg {
            bail!("closed: {c:?}");
        }
        let Some(frame) = decode(p.codec, &msg) else {
            continue;
        };
        let matches = |rid: &Option<RequestId>| rid.as_ref().is_some_and(|r| r.0 == id);
        match &frame {
            ServerFrame::Ack(a) if matches(&a.id) => return Ok(frame),
            ServerFrame::Error(e) if matches(&e.id) => return Ok(frame),
            _ => {}
        }
    }
}

fn decode(codec: Codec, msg: &Message) -> Option<ServerFrame> {
    match msg {
        Message::Text(t) => codec.decode_server(t.as_bytes()).ok(),
        Message::Binary(b) => codec.decode_server(b).ok(),
        _ => None,
    }
}

/// The negotiation, from the traffic start until both parties are done and
/// the traffic ends, or the drain ends.
async fn negotiate(
    ctx: &Ctx,
    cs: &Costream,
    plan: &PairPlan,
    session: u64,
    anchor: &mut Party,
    guest: &mut Party,
    st: &mut PairStats,
) -> anyhow::Result<()> {
    let start = ctx.traffic_start();
    let (end, hard) = (
        ctx.traffic_end(),
        ctx.traffic_end() + Duration::from_secs_f64(DRAIN_S),
    );
    let total = u64::from(cs.signals_per_party());
    let pace = Duration::from_millis(cs.pace_ms);
    anchor.begin(total, start);
    loop {
        let complete = anchor.done() && guest.done() && anchor.got_eoc && guest.got_eoc;
        if complete && st.negotiation_us.is_none() {
            st.negotiation_us = Some(start.elapsed().as_micros() as u64);
            st.counts.negotiated = 1;
        }
        let stop_at = if complete { end } else { hard };
        let due = [anchor.due, guest.due].into_iter().flatten().min();
        tokio::select! {
            _ = tokio::time::sleep_until(stop_at) => return Ok(()),
            _ = tokio::time::sleep_until(due.unwrap_or(hard)), if due.is_some() => {
                let now = Instant::now();
                for p in [&mut *anchor, &mut *guest] {
                    if p.due.is_some_and(|d| d <= now) {
                        send_next(p, cs, plan, session, pace, st).await?;
                    }
                }
            }
            m = anchor.ws.next() => {
                let m = m.context("anchor: closed")?.context("anchor")?;
                count(ctx, &m);
                on_message(anchor, guest.eoc_sent_us, session, &m, st)?;
            }
            m = guest.ws.next() => {
                let m = m.context("guest: closed")?.context("guest")?;
                count(ctx, &m);
                if on_message(guest, anchor.eoc_sent_us, session, &m, st)? {
                    guest.begin(total, Instant::now());
                }
            }
        }
    }
}

/// Counts a received message in the worker's throughput.
fn count(ctx: &Ctx, m: &Message) {
    ctx.frames.fetch_add(1, Ordering::Relaxed);
    ctx.bytes.fetch_add(m.len() as u64, Ordering::Relaxed);
}

/// Writes the party's next message and schedules the one after.
async fn send_next(
    p: &mut Party,
    cs: &Costream,
    plan: &PairPlan,
    session: u64,
    pace: Duration,
    st: &mut PairStats,
) -> anyhow::Result<()> {
    let n = p.written + 1;
    let at = now_micros();
    let mut signal = Signal {
        session,
        kind: SignalKind::EndOfCandidates,
        sdp: None,
        candidate: None,
        sdp_mid: None,
        sdp_mline_index: None,
        link: false,
    };
    if n == 1 {
        let sdp = sdp::sdp(p.answerer, plan.index, n, at, cs.sdp_bytes);
        st.counts.sdp_bytes += sdp.len() as u64;
        signal.kind = if p.answerer {
            SignalKind::Answer
        } else {
            SignalKind::Offer
        };
        signal.sdp = Some(sdp);
    } else if n < p.total {
        let i = (n - 2) as u32;
        let c = sdp::candidate(p.answerer, plan.index, i, n, at, cs.candidate_bytes);
        st.counts.candidate_bytes += c.len() as u64;
        signal.kind = SignalKind::Candidate;
        signal.candidate = Some(c);
        signal.sdp_mid = Some((i % 2).to_string());
        signal.sdp_mline_index = Some(i % 2);
    } else {
        p.eoc_sent_us = Some(at);
    }
    let frame = ClientFrame {
        id: Some(RequestId(format!("s{n}"))),
        request: Request::Signal(signal),
    };
    p.ws.send(conn::encode(p.codec, &frame)?)
        .await
        .with_context(|| format!("{}: sending", p.user))?;
    p.written = n;
    st.counts.sent += 1;
    p.due = (n < p.total).then(|| p.due.unwrap_or_else(Instant::now) + pace);
    Ok(())
}

/// Takes one message of party `p`: the replies to its own signals, and the
/// signals of its peer (checked and timed; `peer_eoc_us` times the peer's
/// `end_of_candidates`). True when it was the peer's offer.
fn on_message(
    p: &mut Party,
    peer_eoc_us: Option<u64>,
    session: u64,
    m: &Message,
    st: &mut PairStats,
) -> anyhow::Result<bool> {
    if let Message::Close(c) = m {
        bail!("{}: closed: {c:?}", p.user);
    }

    let mine = |id: &Option<RequestId>| id.as_ref().is_some_and(|r| r.0.starts_with('s'));
    let mut offer = false;
    match decode(p.codec, m) {
        Some(ServerFrame::Ack(a)) if mine(&a.id) => {
            p.acked += 1;
            st.counts.acked += 1;
        }
        Some(ServerFrame::Error(e)) if mine(&e.id) => {
            p.refused += 1;
            *st.counts.refused.entry(code_name(e.code)).or_default() += 1;
            if st.counts.errors.is_empty() {
                st.counts
                    .errors
                    .push(format!("{}: signal refused: {}", p.user, e.message));
            }
        }
        Some(ServerFrame::Batch(b)) => {
            for e in b.events {
                if let EventKind::Signal(s) = e.kind {
                    offer |= received(p, &s, peer_eoc_us, session, st);
                }
            }
        }
        _ => {}
    }
    Ok(offer)
}

/// Checks and times one signal event from the peer; true for an offer.
fn received(
    p: &mut Party,
    s: &SignalEvent,
    peer_eoc_us: Option<u64>,
    session: u64,
    st: &mut PairStats,
) -> bool {
    let now = now_micros();
    if s.session != session || s.from != p.peer {
        st.counts.misrouted += 1;
        return false;
    }
    p.received += 1;
    st.counts.received += 1;
    let mut back = s.seq <= p.last_seq;
    if s.seq > p.last_seq + 1 {
        st.counts.gaps += s.seq - p.last_seq - 1;
    }
    p.last_seq = p.last_seq.max(s.seq);
    let payload = s.sdp.as_deref().or(s.candidate.as_deref());
    let sent_us = match (s.kind, payload.and_then(sdp::mark)) {
        (SignalKind::EndOfCandidates, None) => {
            p.got_eoc = true;
            peer_eoc_us
        }
        (SignalKind::Offer | SignalKind::Answer | SignalKind::Candidate, Some((n, t))) => {
            back |= n <= p.last_n;
            p.last_n = p.last_n.max(n);
            Some(t)
        }
        _ => {
            st.counts.misrouted += 1;
            None
        }
    };
    if back {
        st.counts.reordered += 1;
    }
    if let Some(t) = sent_us {
        st.latencies.push(now.saturating_sub(t).max(1));
    }
    s.kind == SignalKind::Offer && p.answerer
}
