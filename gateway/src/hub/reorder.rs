//! Puts a room's bus events back in offset order. Two requests may append
//! offsets 5 and 6 and publish them in the other order; the hub releases an
//! event only when every smaller offset has been released, and asks the store
//! for a gap that stays open longer than the hold time.

use std::collections::BTreeMap;

use protocol::RoomEvent;
use tokio::time::{Duration, Instant};

/// Offset-ordering buffer of one room hub.
#[derive(Debug)]
pub struct Reorder {
    next: u64,
    /// Events above a gap, with when each arrived.
    held: BTreeMap<u64, (RoomEvent, Instant)>,
    /// When the gap below the held events was first shown: the earliest
    /// arrival among them (each one shows that `next` is missing).
    gap_since: Option<Instant>,
    hold: Duration,
    /// The log head as last read, and when: offsets up to it exist even if
    /// no later event has arrived to show the gap.
    expected: Option<(u64, Instant)>,
}

impl Reorder {
    /// Expects `next` as the first offset to release.
    pub fn new(next: u64, hold: Duration) -> Self {
        Reorder {
            next,
            held: BTreeMap::new(),
            gap_since: None,
            hold,
            expected: None,
        }
    }

    /// Notes that the log holds every offset up to `head` (read at `now`).
    /// Offsets below it that have not arrived by `now + hold` become an
    /// overdue gap: a batch committed just before the read is usually still
    /// on the bus, so the hub does not fetch it at once.
    pub fn expect_upto(&mut self, head: u64, now: Instant) {
        if head >= self.next && self.expected.is_none_or(|(h, _)| h < head) {
            self.expected = Some((head, self.expected.map_or(now, |(_, at)| at)));
        }
    }

    /// The next offset to release.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Accepts an event; offsets already released are ignored (duplicates).
    pub fn push(&mut self, event: RoomEvent, now: Instant) {
        if event.offset < self.next {
            return;
        }
        self.held.entry(event.offset).or_insert((event, now));
        if self.gap_since.is_none() && self.first_held() != Some(self.next) {
            self.gap_since = Some(now);
        }
    }

    fn first_held(&self) -> Option<u64> {
        self.held.keys().next().copied()
    }

    /// Releases the contiguous run starting at `next`, oldest first.
    pub fn take_ready(&mut self, out: &mut Vec<RoomEvent>) {
        let before = self.next;
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            out.push(entry.remove().0);
            self.next += 1;
        }
        if self.expected.is_some_and(|(h, _)| h < self.next) {
            self.expected = None;
        }
        // A new gap (a later one than before the release) is only as old as
        // the earliest arrival still held: the old gap's start would make
        // it overdue at once and fetch what the bus is still bringing.
        if self.next != before || self.gap_since.is_none() {
            self.gap_since = self.held.values().map(|(_, at)| *at).min();
        }
    }

    /// The missing offsets `[next, first held)` when the gap outlived the hold.
    pub fn overdue_gap(&self, now: Instant) -> Option<(u64, u64)> {
        let held = self.gap_since.zip(self.first_held());
        if let Some((since, first)) = held
            && now.duration_since(since) >= self.hold
            && first > self.next
        {
            return Some((self.next, first));
        }
        // Nothing held, but the log head said more exists.
        let (head, since) = self.expected?;
        let upto = held.map_or(head + 1, |(_, first)| first.min(head + 1));
        (now.duration_since(since) >= self.hold && upto > self.next).then_some((self.next, upto))
    }

    /// Since when offsets are known to be missing (an event above them
    /// arrived, or the log head said they exist); `None` without a gap.
    pub fn gap_open_since(&self) -> Option<Instant> {
        let held = self.gap_since.filter(|_| !self.held.is_empty());
        let expected = self.expected.map(|(_, at)| at);
        match (held, expected) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Gives up on offsets below `offset` (the log no longer holds them).
    pub fn skip_to(&mut self, offset: u64) {
        if offset > self.next {
            self.next = offset;
            self.gap_since = None;
        }
        if self.expected.is_some_and(|(h, _)| h < self.next) {
            self.expected = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{EventKind, Switches};

    fn ev(offset: u64) -> RoomEvent {
        RoomEvent {
            offset,
            ts: 0,
            kind: EventKind::Switches(Switches::default()),
        }
    }

    fn offsets(v: &[RoomEvent]) -> Vec<u64> {
        v.iter().map(|e| e.offset).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn out_of_order_events_come_out_in_order() {
        let mut r = Reorder::new(1, Duration::from_millis(100));
        let now = Instant::now();
        let mut out = vec![];
        r.push(ev(2), now);
        r.take_ready(&mut out);
        assert!(out.is_empty());
        r.push(ev(1), now);
        r.push(ev(1), now);
        r.take_ready(&mut out);
        assert_eq!(offsets(&out), [1, 2]);
        r.push(ev(2), now);
        r.take_ready(&mut out);
        assert_eq!(offsets(&out), [1, 2], "duplicates are ignored");
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_read_makes_missing_offsets_overdue_only_after_the_hold() {
        let mut r = Reorder::new(1, Duration::from_millis(100));
        let now = Instant::now();
        r.expect_upto(3, now);
        assert_eq!(r.overdue_gap(now), None);
        // 1 arrives meanwhile (it was on the bus); 2 and 3 never do.
        r.push(ev(1), now);
        let mut out = vec![];
        r.take_ready(&mut out);
        assert_eq!(offsets(&out), [1]);
        assert_eq!(r.overdue_gap(now + Duration::from_millis(99)), None);
        assert_eq!(
            r.overdue_gap(now + Duration::from_millis(100)),
            Some((2, 4))
        );
        assert_eq!(r.gap_open_since(), Some(now));
        // Once they arrive nothing is expected any more.
        r.push(ev(2), now);
        r.push(ev(3), now);
        r.take_ready(&mut out);
        assert_eq!(r.overdue_gap(now + Duration::from_secs(5)), None);
        assert_eq!(r.gap_open_since(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_becomes_overdue_after_the_hold() {
        let mut r = Reorder::new(1, Duration::from_millis(100));
        let t0 = Instant::now();
        r.push(ev(3), t0);
        let mut out = vec![];
        r.take_ready(&mut out);
        assert_eq!(r.overdue_gap(t0), None);
        assert_eq!(r.overdue_gap(t0 + Duration::from_millis(100)), Some((1, 3)));
        r.skip_to(3);
        r.take_ready(&mut out);
        assert_eq!(offsets(&out), [3]);
        assert_eq!(r.next(), 4);
    }
}

#[cfg(test)]
#[path = "reorder_props.rs"]
mod props;
