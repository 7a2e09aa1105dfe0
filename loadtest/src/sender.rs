//! Signed-in connections that post marked comments or likes at a fixed
//! rate during the traffic phase, counting acks and refusals.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::{ClientFrame, Codec, Like, PostComment, Request, RequestId, ServerFrame};
use tokio::time::{Instant, MissedTickBehavior};

use crate::conn::{self, Dial};
use crate::plan::{SendCounts, SenderPlan};
use crate::worker::Ctx;

/// What a sender posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Marked comments.
    Comment,
    /// Single likes.
    Like,
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
        let mut ws = match conn::connect_and_join(&dial, &plan.room, None).await {
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
                        Kind::Like => Request::Like(Like { count: 1 }),
                    };
                    let frame = ClientFrame { id: Some(RequestId(n.to_string())), request };
                    let Ok(msg) = conn::encode(Codec::Json, &frame) else { break false };
                    if ws.send(ctx.plan.wire.wrap(msg)).await.is_err() {
                        break true;
                    }
                    counts.sent += 1;
                    if kind == Kind::Comment {
                        *counts.per_room.entry(plan.room.clone()).or_default() += 1;
                    }
                }
                msg = ws.next() => match msg {
                    Some(Ok(m)) => match ctx.plan.wire.decode(Codec::Json, &mut ws, &m).await {
                        Some(ServerFrame::Ack(_)) => {
                            counts.acked += 1;
                            if kind == Kind::Comment {
                                ctx.acked.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Some(ServerFrame::Error(e)) => {
                            *counts.refused.entry(code_name(e.code)).or_default() += 1;
                        }
                        _ => {}
                    },
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
                        Some(Ok(m)) => match ctx.plan.wire.decode(Codec::Json, &mut ws, &m).await {
                            Some(ServerFrame::Ack(_)) => counts.acked += 1,
                            Some(ServerFrame::Error(e)) => {
                                *counts.refused.entry(code_name(e.code)).or_default() += 1;
                            }
                            _ => {}
                        },
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
