//! One tick's output: room events split by lane, the comment lane sampled to
//! the per-viewer cap, each frame encoded once per codec in use, framed once
//! (WebSocket header included), and the same bytes written straight to
//! every local session's socket, or queued to those that cannot take them now.

use std::sync::Arc;

use bytes::Bytes;
use protocol::{Batch, Codec, EventKind, Lane, RoomEvent, ServerFrame, Totals};
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
    json: Option<(Message, Bytes)>,
    binary: Option<(Message, Bytes)>,
    lane: Lane,
    since: u64,
    upto: u64,
}

impl EncodedFrame {
    /// Encodes `batch` once per codec that some member uses.
    pub fn encode(batch: &Batch, json: bool, binary: bool) -> Self {
        let frame = ServerFrame::Batch(batch.clone());
        EncodedFrame {
            json: json.then(|| framed(encode_message(Codec::Json, &frame))),
            binary: binary.then(|| framed(encode_message(Codec::Binary, &frame))),
            lane: batch.lane,
            since: batch.since,
            upto: batch.upto,
        }
    }

    fn message(&self, codec: Codec) -> Option<&(Message, Bytes)> {
        match codec {
            Codec::Json => self.json.as_ref(),
            Codec::Binary => self.binary.as_ref(),
        }
    }
}

/// A message with its complete wire frame.
fn framed(msg: Message) -> (Message, Bytes) {
    let wire = super::wire::frame(&msg);
    (msg, wire)
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
    /// Frames written straight to the socket (also counted in `queued`).
    pub written: u64,
    /// Low frames dropped for full queues.
    pub dropped_low: u64,
    /// Sessions closed as slow consumers (or already closing).
    pub closed: u64,
}

/// Offers every frame to every member (written at once where the socket
/// takes it, queued where not); never blocks.
pub fn deliver(members: &[Member], frames: &[EncodedFrame]) -> Delivered {
    let mut d = Delivered::default();
    for m in members {
        for f in frames {
            let Some((msg, wire)) = f.message(m.codec) else {
                continue;
            };
            let out = Outgoing {
                msg: msg.clone(),
                lane: f.lane,
                since: f.since,
                upto: f.upto,
                generation: m.generation,
            };
            match m.outbox.offer(out, wire) {
                Pushed::Queued => d.queued += 1,
                Pushed::Written => {
                    d.queued += 1;
                    d.written += 1;
                }
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

/// Members per part of a split delivery: a room smaller than two parts is
/// written from the hub's own thread.
pub const DELIVERY_PART: usize = 4096;

/// Threads a split delivery uses at most: the machine's cores, up to 8.
pub fn delivery_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
}

/// [`deliver`] for a large room, split into up to `threads` parts of at
/// least [`DELIVERY_PART`] members, each written on its own thread (the
/// calling one included) and all done when it returns. Each member is in
/// exactly one part, so each socket still has one writer and gets the
/// frames in order; the writes to a hot room's sockets use every core
/// instead of one.
pub fn deliver_split(members: &[Member], frames: &[EncodedFrame], threads: usize) -> Delivered {
    let parts = threads.min(members.len() / DELIVERY_PART).max(1);
    if parts == 1 {
        return deliver(members, frames);
    }
    let mut chunks = members.chunks(members.len().div_ceil(parts));
    let first = chunks.next().unwrap_or_default();
    std::thread::scope(|s| {
        let others: Vec<_> = chunks
            .map(|c| s.spawn(move || deliver(c, frames)))
            .collect();
        let mut d = deliver(first, frames);
        for h in others {
            // A panic in a part is the hub's panic (caught and replaced by its task).
            let part = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            d.queued += part.queued;
            d.written += part.written;
            d.dropped_low += part.dropped_low;
            d.closed += part.closed;
        }
        d
    })
}

/// Per-room sampler of the comment lane: each viewer receives at most
/// `cap` comments in any second. What the last second left unused carries
/// over: after a quiet tick (no comments to sample) the whole unused part
/// of the last second may go out at once, so a fresh room and a room back
/// from quiet send a burst of up to `cap`. While comments keep coming, the
/// budget is paced evenly: `cap` per second spread over the ticks (2 per
/// 100 ms tick at 20/s; a late tick the share of the time it covers),
/// never more than the second allows.
#[derive(Debug, Clone)]
pub struct CommentSampler {
    cap: f64,
    /// Pacing credit of busy ticks: refills at `cap`/s, holds one tick's
    /// share and one comment more.
    pace: f64,
    max_pace: f64,
    /// Comments sent in the last second: (time ms, count), oldest first.
    sent: std::collections::VecDeque<(u64, usize)>,
    now_ms: u64,
    /// Whether the previous tick had comments to sample.
    prev_busy: bool,
    busy: bool,
}

impl CommentSampler {
    /// A sampler for `cap` comments/s at a tick of `tick_ms`, with the whole
    /// first second's budget.
    pub fn new(cap: u32, tick_ms: u64) -> Self {
        let cap = f64::from(cap);
        let max_pace = Self::max_pace(cap, tick_ms);
        CommentSampler {
            cap,
            pace: max_pace,
            max_pace,
            sent: Default::default(),
            now_ms: 0,
            prev_busy: false,
            busy: false,
        }
    }

    /// One tick's share plus one whole comment, so fractional shares add
    /// up (at 12/s and 20 ms ticks, 0.24 a tick) and none is lost.
    fn max_pace(cap: f64, tick_ms: u64) -> f64 {
        cap * tick_ms as f64 / 1000.0 + 1.0
    }

    /// The room's tick changed: the pacing follows it.
    pub fn set_tick(&mut self, tick_ms: u64) {
        self.max_pace = Self::max_pace(self.cap, tick_ms);
        self.pace = self.pace.min(self.max_pace);
    }

    /// A new tick at `now_ms` (the hub calls this every tick, with or
    /// without comments): refills the pacing credit and forgets what was
    /// sent more than a second ago. A clock that steps back refills nothing.
    pub fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.now_ms) as f64 / 1000.0;
        if self.now_ms > 0 {
            // A late tick (a hub slowed by a busy machine) covers more than
            // one tick's time: it may spend that time's share, so the
            // viewers' rate does not fall with the tick rate.
            let max = self.max_pace.max(self.cap * elapsed + 1.0);
            self.pace = (self.pace + self.cap * elapsed).min(max);
        }
        self.now_ms = self.now_ms.max(now_ms);
        while self
            .sent
            .front()
            .is_some_and(|(t, _)| *t + 1000 <= self.now_ms)
        {
            self.sent.pop_front();
        }
        self.prev_busy = self.busy;
        self.busy = false;
    }

    /// What the last second left unused.
    fn unused(&self) -> usize {
        let sent: usize = self.sent.iter().map(|(_, n)| n).sum();
        (self.cap as usize).saturating_sub(sent)
    }

    /// The comments this tick may send.
    pub fn budget(&self) -> usize {
        if self.prev_busy {
            self.unused().min(self.pace.floor() as usize)
        } else {
            self.unused()
        }
    }

    /// Keeps at most the budget held now, evenly spread over `comments`,
    /// and spends it.
    pub fn sample(&mut self, comments: Vec<RoomEvent>) -> Vec<RoomEvent> {
        let budget = self.budget();
        let n = comments.len();
        let comments_empty = n == 0;
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
        if !comments_empty {
            self.busy = true;
        }
        self.pace = (self.pace - kept.len() as f64).max(0.0);
        if !kept.is_empty() {
            self.sent.push_back((self.now_ms, kept.len()));
        }
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
    // Comments are sampled; the other low-lane events (stock counts) are
    // already paced by their publishers and all go out.
    let (comments, counts): (Vec<_>, Vec<_>) = low
        .into_iter()
        .partition(|e| matches!(e.kind, EventKind::Comment(_)));
    let mut low = sampler.sample(comments);
    if !counts.is_empty() {
        low.extend(counts);
        low.sort_by_key(|e| e.offset);
    }
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

    fn burst(from: u64, n: u64) -> Vec<RoomEvent> {
        (from..from + n).map(comment).collect()
    }

    #[test]
    fn the_sampler_caps_comments_per_second() {
        let mut s = CommentSampler::new(20, 100);
        let mut kept_at = vec![];
        // Three seconds of 500 comments/s from a fresh room.
        for t in 0..30u64 {
            s.refill(1_000 + t * 100);
            let kept = s.sample(burst(t * 50 + 1, 50));
            assert!(kept.windows(2).all(|w| w[0].offset < w[1].offset));
            if !kept.is_empty() {
                assert_eq!(kept.last().map(|e| e.offset), Some(t * 50 + 50));
            }
            kept_at.push(kept.len());
        }
        // Never more than 20 in any second (10 ticks).
        for w in kept_at.windows(10) {
            assert!(w.iter().sum::<usize>() <= 20, "{kept_at:?}");
        }
        // The first second's budget at once, then paced: 20 a second,
        // about 2 per tick.
        assert_eq!(kept_at[0], 20);
        for second in kept_at[10..].chunks(10) {
            assert_eq!(second.iter().sum::<usize>(), 20, "{kept_at:?}");
            assert!(second.iter().all(|&n| (1..=3).contains(&n)), "{kept_at:?}");
        }
    }

    #[test]
    fn spare_budget_carries_over_quiet_ticks_for_up_to_a_second() {
        // A fresh room: the whole first second.
        let mut s = CommentSampler::new(20, 100);
        s.refill(10_000);
        assert_eq!(s.sample(burst(1, 8)).len(), 8);
        s.refill(10_100);
        assert_eq!(s.sample(burst(9, 100)).len(), 2);
        // 1.5 s of quiet ticks (the hub ticks, no comments): 8 go out.
        for t in 1..=15 {
            s.refill(10_100 + t * 100);
        }
        assert_eq!(s.sample(burst(200, 8)).len(), 8);
        // A flood right after: paced, 2 per tick.
        s.refill(11_700);
        assert_eq!(s.sample(burst(300, 100)).len(), 2);
        // One quiet tick frees what the second left unused: 20 - 8 - 2.
        s.refill(11_800);
        s.refill(11_900);
        assert_eq!(s.budget(), 10);
        assert_eq!(s.sample(burst(400, 100)).len(), 10);
        // The second is used up; a clock that steps back frees nothing.
        s.refill(5_000);
        assert_eq!(s.budget(), 0);
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

    #[test]
    fn a_split_delivery_reaches_every_member_once_in_order() {
        let n = 3 * DELIVERY_PART + 7;
        let members: Vec<Member> = (0..n as u64)
            .map(|i| Member {
                session: i,
                outbox: Arc::new(Outbox::new(1 << 20)),
                codec: if i % 10 == 9 {
                    Codec::Binary
                } else {
                    Codec::Json
                },
                generation: 1,
            })
            .collect();
        let mut since = 0;
        let mut s = CommentSampler::new(20, 100);
        let batches = build_batches(
            "r",
            "e",
            &mut since,
            vec![status(1), comment(2)],
            &mut s,
            None,
        );
        assert_eq!(batches.len(), 2, "a high and a low frame");
        let frames: Vec<_> = batches
            .iter()
            .map(|b| EncodedFrame::encode(b, true, true))
            .collect();
        let d = deliver_split(&members, &frames, 4);
        assert_eq!(d.queued, 2 * n as u64);
        assert_eq!((d.written, d.dropped_low, d.closed), (0, 0, 0));
        for m in &members {
            let (q, _) = m.outbox.drain();
            let lanes: Vec<_> = q.iter().map(|o| o.lane).collect();
            assert_eq!(lanes, [Lane::High, Lane::Low], "session {}", m.session);
        }
        // Too small to split: the same as one delivery.
        let small = &members[..DELIVERY_PART];
        assert_eq!(
            deliver_split(small, &frames, 4).queued,
            2 * DELIVERY_PART as u64
        );
    }

    #[test]
    fn a_late_tick_spends_the_time_it_covers() {
        let mut s = CommentSampler::new(20, 100);
        let mut t = 1_000;
        s.refill(t);
        // After the first busy tick (the quiet second's whole budget),
        // busy ticks on time send about 2 each.
        for tick in 0..20 {
            t += 100;
            s.refill(t);
            let kept = s.sample(burst(1 + tick * 10, 10));
            assert!(tick == 0 || kept.len() <= 3, "{}", kept.len());
        }
        // A tick 300 ms late covers 400 ms: its share is 8, not 2.
        t += 400;
        s.refill(t);
        let kept = s.sample(burst(201, 10));
        assert!((8..=9).contains(&kept.len()), "{}", kept.len());
    }
}

#[cfg(test)]
#[path = "fanout_props.rs"]
mod props;
