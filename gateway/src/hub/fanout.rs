//! One tick's output: room events split by lane, the comment lane sampled to
//! the per-viewer cap, each frame encoded once per codec in use and the same
//! bytes queued to every local session.

use std::sync::Arc;

use protocol::{Batch, Codec, Lane, RoomEvent, ServerFrame, Totals};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::outbox::{Outbox, Outgoing, Pushed};

/// A local session in a room hub.
#[derive(Clone)]
pub struct Member {
    /// Session id.
    pub session: u64,
    /// Where its frames go.
    pub outbox: Arc<Outbox>,
    /// Its codec.
    pub codec: Codec,
    /// Membership generation, so a session drops frames of a room it left.
    pub generation: u32,
}

/// A frame encoded for each codec in use.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    json: Option<Message>,
    binary: Option<Message>,
    lane: Lane,
    since: u64,
    upto: u64,
}

impl EncodedFrame {
    /// Encodes `batch` once per codec that some member uses.
    pub fn encode(batch: &Batch, json: bool, binary: bool) -> Self {
        let frame = ServerFrame::Batch(batch.clone());
        EncodedFrame {
            json: json.then(|| encode_message(Codec::Json, &frame)),
            binary: binary.then(|| encode_message(Codec::Binary, &frame)),
            lane: batch.lane,
            since: batch.since,
            upto: batch.upto,
        }
    }

    fn message(&self, codec: Codec) -> Option<&Message> {
        match codec {
            Codec::Json => self.json.as_ref(),
            Codec::Binary => self.binary.as_ref(),
        }
    }
}

/// Encodes a server frame as the WebSocket message of its codec.
pub fn encode_message(codec: Codec, frame: &ServerFrame) -> Message {
    let bytes = codec.encode_server(frame);
    match codec {
        // JSON output is UTF-8: validate in place rather than copy.
        Codec::Json => match Utf8Bytes::try_from(bytes.clone()) {
            Ok(text) => Message::Text(text),
            Err(_) => Message::Binary(bytes),
        },
        Codec::Binary => Message::Binary(bytes),
    }
}

/// Counts of one delivery.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Frames queued.
    pub queued: u64,
    /// Low frames dropped for full queues.
    pub dropped_low: u64,
    /// Sessions closed as slow consumers (or already closing).
    pub closed: u64,
}

/// Queues every frame to every member; never blocks.
pub fn deliver(members: &[Member], frames: &[EncodedFrame]) -> Delivered {
    let mut d = Delivered::default();
    for m in members {
        for f in frames {
            let Some(msg) = f.message(m.codec) else {
                continue;
            };
            let out = Outgoing {
                msg: msg.clone(),
                lane: f.lane,
                since: f.since,
                upto: f.upto,
                generation: m.generation,
            };
            match m.outbox.push(out) {
                Pushed::Queued => d.queued += 1,
                Pushed::DroppedLow => d.dropped_low += 1,
                Pushed::Closed => {
                    d.closed += 1;
                    break;
                }
            }
        }
    }
    d
}

/// Per-room sampler of the comment lane: each viewer receives at most
/// `cap` comments per second; spare budget carries over up to one second.
#[derive(Debug, Clone)]
pub struct CommentSampler {
    per_tick: f64,
    max_credit: f64,
    credit: f64,
}

impl CommentSampler {
    /// A sampler for `cap` comments/s at a tick of `tick_ms`.
    pub fn new(cap: u32, tick_ms: u64) -> Self {
        let per_tick = f64::from(cap) * tick_ms as f64 / 1000.0;
        let max_credit = f64::from(cap).max(per_tick);
        CommentSampler {
            per_tick,
            max_credit,
            credit: per_tick,
        }
    }

    /// Keeps at most the budget of this tick, evenly spread over `comments`.
    pub fn sample(&mut self, comments: Vec<RoomEvent>) -> Vec<RoomEvent> {
        let budget = self.credit.floor() as usize;
        let n = comments.len();
        let kept = if n <= budget {
            comments
        } else {
            // Evenly spaced picks, always including the newest.
            (0..budget)
                .map(|i| (n - 1) - i * n / budget.max(1))
                .rev()
                .filter_map(|idx| comments.get(idx).cloned())
                .collect()
        };
        self.credit = (self.credit - kept.len() as f64 + self.per_tick).min(self.max_credit);
        kept
    }
}

/// Builds this tick's batches: high events, then sampled comments with the
/// totals when they changed.
pub fn build_batches(
    room: &str,
    epoch: &str,
    high_since: &mut u64,
    events: Vec<RoomEvent>,
    sampler: &mut CommentSampler,
    totals: Option<Totals>,
) -> Vec<Batch> {
    let Some(upto) = events.last().map(|e| e.offset) else {
        return totals
            .map(|t| vec![batch(room, epoch, Lane::Low, 0, 0, vec![], Some(t))])
            .unwrap_or_default();
    };
    let since = events.first().map_or(upto, |e| e.offset - 1);
    // Internal events (the room record) hold an offset but reach no client:
    // a high frame covering their offset simply does not list them.
    let (high, low): (Vec<_>, Vec<_>) = events
        .into_iter()
        .filter(|e| !e.kind.is_internal())
        .partition(|e| e.lane() == Lane::High);
    let mut out = Vec::with_capacity(2);
    if !high.is_empty() {
        out.push(batch(
            room,
            epoch,
            Lane::High,
            *high_since,
            upto,
            high,
            None,
        ));
        *high_since = upto;
    }
    let low = sampler.sample(low);
    if !low.is_empty() || totals.is_some() {
        out.push(batch(room, epoch, Lane::Low, since, upto, low, totals));
    }
    out
}

fn batch(
    room: &str,
    epoch: &str,
    lane: Lane,
    since: u64,
    upto: u64,
    events: Vec<RoomEvent>,
    totals: Option<Totals>,
) -> Batch {
    Batch {
        room: room.to_string(),
        epoch: epoch.to_string(),
        lane,
        since,
        upto,
        events,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Comment, EventKind, Role, RoomStatus, StatusChanged};

    fn comment(offset: u64) -> RoomEvent {
        RoomEvent {
            offset,
            ts: 0,
            kind: EventKind::Comment(Comment {
                user: "u".into(),
                nick: "n".into(),
                text: format!("c{offset}"),
                role: Role::Viewer,
            }),
        }
    }

    fn status(offset: u64) -> RoomEvent {
        RoomEvent {
            offset,
            ts: 0,
            kind: EventKind::Status(StatusChanged {
                status: RoomStatus::Paused,
                reason: None,
            }),
        }
    }

    #[test]
    fn the_sampler_caps_comments_per_second() {
        let mut s = CommentSampler::new(20, 100);
        let mut total = 0;
        for t in 0..10 {
            let batch: Vec<_> = (0..50).map(|i| comment(t * 50 + i + 1)).collect();
            let kept = s.sample(batch);
            assert!(kept.windows(2).all(|w| w[0].offset < w[1].offset));
            total += kept.len();
        }
        assert!((19..=21).contains(&total), "kept {total} in one second");
    }

    #[test]
    fn high_batches_chain_their_ranges() {
        let mut since = 0;
        let mut s = CommentSampler::new(1000, 100);
        let b = build_batches(
            "r",
            "e",
            &mut since,
            vec![comment(1), status(2), comment(3)],
            &mut s,
            None,
        );
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].lane, b[0].since, b[0].upto), (Lane::High, 0, 3));
        assert_eq!(
            (b[1].lane, b[1].since, b[1].upto, b[1].events.len()),
            (Lane::Low, 0, 3, 2)
        );
        let b = build_batches("r", "e", &mut since, vec![comment(4)], &mut s, None);
        assert_eq!(b.len(), 1);
        let b = build_batches("r", "e", &mut since, vec![status(5)], &mut s, None);
        assert_eq!((b[0].since, b[0].upto), (3, 5));
    }

    #[test]
    fn every_member_gets_the_same_bytes() {
        let members: Vec<Member> = (0..3)
            .map(|i| Member {
                session: i,
                outbox: Arc::new(Outbox::new(1 << 20)),
                codec: if i == 0 { Codec::Binary } else { Codec::Json },
                generation: 1,
            })
            .collect();
        let mut since = 0;
        let mut s = CommentSampler::new(20, 100);
        let batches = build_batches("r", "e", &mut since, vec![status(1)], &mut s, None);
        let frames: Vec<_> = batches
            .iter()
            .map(|b| EncodedFrame::encode(b, true, true))
            .collect();
        let d = deliver(&members, &frames);
        assert_eq!(d.queued, 3);
        let (a, _) = members[1].outbox.drain();
        let (b, _) = members[2].outbox.drain();
        assert_eq!(a[0].msg, b[0].msg);
    }
}

#[cfg(test)]
#[path = "fanout_props.rs"]
mod props;
