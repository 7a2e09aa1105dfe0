//! Signed-in connections that post marked comments or likes at a fixed
//! rate during the traffic phase, counting acks, refusals and the time from
//! each request to its `ack`.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, Codec, Like, PostComment, Request, RequestId, ServerFrame};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{self, Dial};
use crate::plan::{SendCounts, SenderPlan};
use crate::worker::Ctx;

/// What a sender posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Marked comments.
    Comment,
    /// Likes of `like_count` taps each.
    Like,
    /// Grabs of one unit of the scenario's item, each with a new key or
    /// (`grab_retry_percent`) an earlier key again.
    Grab,
}

/// Requests of one connection waiting for their reply, and what replies do
/// to the counts.
struct Pending<'a> {
    ctx: &'a Ctx,
    kind: Kind,
    shard: usize,
    taps: u64,
    sent: HashMap<u64, Instant>,
    /// Request ids that resent an earlier key (grabs).
    retried: std::collections::HashSet<u64>,
}

impl Pending<'_> {
    /// Takes one received message: acks and refusals of our requests are
    /// counted (and timed), room frames are skipped without decoding them.
    async fn on_message(&mut self, counts: &mut SendCounts, ws: &mut conn::Ws, m: &Message) {
        if is_room_frame(m) {
            return;
        }
        let reply = self.ctx.plan.wire.decode(Codec::Json, ws, m).await;
        match reply {
            Some(ServerFrame::Grabbed(g)) => {
                counts.acked += 1;
                let n = g.id.as_ref().and_then(|id| id.0.parse::<u64>().ok());
                if n.is_some_and(|n| self.retried.remove(&n)) {
                    counts.retries += 1;
                } else {
                    counts.units += u64::from(g.reservation.quantity);
                }
                self.answered(g.id.as_ref(), true);
            }
            Some(ServerFrame::Ack(a)) => {
                counts.acked += 1;
                if self.kind == Kind::Comment {
                    self.ctx.acked.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.taps_acked += self.taps;
                }
                self.answered(a.id.as_ref(), true);
            }
            Some(ServerFrame::Error(e)) => {
                *counts.refused.entry(code_name(e.code)).or_default() += 1;
                // A refused grab is an answer too (sold out is the usual one).
                let timed = self.kind == Kind::Grab;
                if timed
                    && let Some(n) = e.id.as_ref().and_then(|id| id.0.parse::<u64>().ok())
                    && self.retried.remove(&n)
                {
                    counts.retries += 1;
                }
                self.answered(e.id.as_ref(), timed);
            }
            _ => {}
        }
    }

    fn answered(&mut self, id: Option<&RequestId>, acked: bool) {
        let Some(at) = id
            .and_then(|id| id.0.parse::<u64>().ok())
            .and_then(|n| self.sent.remove(&n))
        else {
            return;
        };
        if !acked {
            return;
        }
        let hists = match self.kind {
            Kind::Comment => &self.ctx.comment_acks,
            Kind::Like => &self.ctx.like_acks,
            Kind::Grab => &self.ctx.grab_acks,
        };
        if let Ok(mut h) = hists[self.shard % hists.len()].lock() {
            h.saturating_record((at.elapsed().as_micros() as u64).max(1));
        }
    }
}

/// Whether a message is a room frame (`events`), which a sender ignores:
/// JSON frames start with their `type`, so the head tells (it still holds
/// for a Socket.IO-wrapped frame). Decoding every batch of a hot room in
/// thousands of senders would cost the load client more than the gateway.
fn is_room_frame(m: &Message) -> bool {
    let Message::Text(t) = m else { return false };
    let head = &t.as_bytes()[..t.len().min(48)];
    head.windows(15).any(|w| w == b"\"type\":\"events\"")
}

/// Runs one sender from the traffic start to the traffic end; `k` spreads
/// senders over targets, source addresses and the first second.
pub async fn run(ctx: Arc<Ctx>, k: usize, plan: SenderPlan, kind: Kind) -> SendCounts {
    let mut counts = SendCounts::default();
    let n_targets = ctx.plan.targets.len();
    let mut target = match ctx.plan.placement {
        crate::scenario::Placement::Spread => k % n_targets,
        crate::scenario::Placement::Node(i) => i,
    };
    let source = Ipv4Addr::new(
        127,
        0,
        0,
        2 + (k % usize::from(ctx.plan.source_ips.max(1))) as u8,
    );
    let taps = ctx.plan.like_count.max(1);
    let mut pending = Pending {
        ctx: &ctx,
        kind,
        shard: k,
        taps: u64::from(taps),
        sent: HashMap::new(),
        retried: Default::default(),
    };
    let retry_percent = u64::from(ctx.plan.grab_retry_percent.min(100));
    let (start, end) = (ctx.traffic_start(), ctx.traffic_end());
    let period = Duration::from_secs_f64(1.0 / plan.rate.max(0.001));
    let phase = period.mul_f64((k as f64 * 0.618_034) % 1.0);
    let mut n = 0u64;
    let mut connected_once = false;
    while Instant::now() < end {
        let dial = Dial {
            url: &ctx.plan.targets[target],
            addr: ctx.addrs[target],
            source,
            codec: Codec::Json,
            token: Some(&plan.token),
            wire: ctx.plan.wire,
        };
        // Thousands of senders share the viewers' handshake budget rather
        // than all dialing in the same instant.
        let permit = ctx.handshakes.acquire().await;
        let joined = conn::connect_and_join(&dial, &plan.room, None).await;
        drop(permit);
        let mut ws = match joined {
            Ok((ws, _)) => ws,
            Err(e) => {
                *counts.refused.entry(format!("connect: {e:#}")).or_default() += 1;
                target = (target + 1) % n_targets;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if connected_once {
            counts.reconnects += 1;
        }
        connected_once = true;
        // Requests sent on a lost connection get no reply: not timed.
        pending.sent.clear();
        // Back after a reconnect: keep this sender's phase, or every sender
        // that came back together would send in the same instant.
        let first = next_on_phase(start + phase, period, Instant::now());
        let mut tick = tokio::time::interval_at(first, period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let deadline = tokio::time::sleep_until(end);
        tokio::pin!(deadline);
        let lost = loop {
            tokio::select! {
                _ = &mut deadline => break false,
                _ = tick.tick() => {
                    n += 1;
                    let request = match kind {
                        Kind::Comment => Request::Comment(PostComment { text: conn::marked_text(n) }),
                        Kind::Like => Request::Like(Like { count: taps }),
                        Kind::Grab => {
                            // Every `100 / p`-th grab resends the key before it.
                            let retry = n > 1 && retry_percent > 0 && (n * retry_percent) % 100 < retry_percent;
                            let key_n = if retry { n - 1 } else { n };
                            if retry {
                                pending.retried.insert(n);
                            }
                            Request::Grab(protocol::commerce::Grab {
                                goods: crate::coordinator::GRAB_GOODS.into(),
                                quantity: 1,
                                key: format!("k{k}-{key_n}"),
                            })
                        }
                    };
                    let frame = ClientFrame { id: Some(RequestId(n.to_string())), request };
                    let Ok(msg) = conn::encode(Codec::Json, &frame) else { break false };
                    let at = Instant::now();
                    if ws.send(ctx.plan.wire.wrap(msg)).await.is_err() {
                        break true;
                    }
                    pending.sent.insert(n, at);
                    counts.sent += 1;
                    match kind {
                        Kind::Comment => {
                            *counts.per_room.entry(plan.room.clone()).or_default() += 1;
                        }
                        Kind::Like => counts.taps_sent += u64::from(taps),
                        Kind::Grab => {}
                    }
                }
                msg = ws.next() => match msg {
                    Some(Ok(m)) => pending.on_message(&mut counts, &mut ws, &m).await,
                    _ => break true,
                }
            }
        };
        if !lost {
            // Collect the acks still in flight, then leave.
            let drain = tokio::time::sleep(Duration::from_millis(1500));
            tokio::pin!(drain);
            while counts.acked + counts.refused.values().sum::<u64>() < counts.sent {
                tokio::select! {
                    _ = &mut drain => break,
                    msg = ws.next() => match msg {
                        Some(Ok(m)) => pending.on_message(&mut counts, &mut ws, &m).await,
                        _ => break,
                    }
                }
            }
            let _ = ws.close(None).await;
            break;
        }
        target = (target + 1) % n_targets;
    }
    counts
}

/// The wire name of an error code (`rate_limited`).
pub fn code_name(code: protocol::ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{code:?}"))
}

/// Adds `b` into `a`.
pub fn add_counts(a: &mut SendCounts, b: &SendCounts) {
    a.sent += b.sent;
    a.acked += b.acked;
    a.reconnects += b.reconnects;
    a.taps_sent += b.taps_sent;
    a.taps_acked += b.taps_acked;
    a.units += b.units;
    a.retries += b.retries;
    merge_map(&mut a.refused, &b.refused);
    merge_map(&mut a.per_room, &b.per_room);
}

/// Adds the counts of `b` into `a`.
pub fn merge_map(a: &mut BTreeMap<String, u64>, b: &BTreeMap<String, u64>) {
    for (k, v) in b {
        *a.entry(k.clone()).or_default() += v;
    }
}

/// The first instant at or after `now` that is `base` plus whole periods.
fn next_on_phase(base: Instant, period: Duration, now: Instant) -> Instant {
    if base >= now || period.is_zero() {
        return base.max(now);
    }
    let behind = (now - base).as_secs_f64() / period.as_secs_f64();
    base + period.mul_f64(behind.ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_frames_are_told_from_replies() {
        let events = Message::text(
            r#"{"type":"events","room":"r","epoch":"e","lane":"low","since":1,"upto":2,"events":[]}"#,
        );
        assert!(is_room_frame(&events));
        let wrapped = Message::text(r#"42["frame",{"type":"events","room":"r"}]"#);
        assert!(is_room_frame(&wrapped));
        let ack = Message::text(r#"{"type":"ack","id":"7","event":null,"status":null}"#);
        assert!(!is_room_frame(&ack));
        assert!(!is_room_frame(&Message::text("2")));
        assert!(!is_room_frame(&Message::Binary(vec![1, 2, 3].into())));
    }

    #[test]
    fn a_reconnected_sender_keeps_its_phase() {
        let base = Instant::now();
        let p = Duration::from_millis(1000);
        assert_eq!(next_on_phase(base, p, base), base);
        let later = base + Duration::from_millis(2300);
        assert_eq!(
            next_on_phase(base, p, later),
            base + Duration::from_millis(3000)
        );
        let early = base - Duration::from_millis(10);
        assert_eq!(next_on_phase(base, p, early), base);
    }
}
