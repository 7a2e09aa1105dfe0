//! The room events a hub released most recently, so resumes on this node
//! are answered from memory instead of one log read per viewer. In a
//! reconnect storm thousands of viewers resume from nearly the same offset;
//! the hub answers them all from here and reads the log at most once per
//! tick to reach further back.
//!
//! A resume carries every high-lane event it missed but only the newest
//! comments (as many as a fresh join's `recent`): comments are sampled live
//! too, and a viewer back after 10 s of 100 comments/s would otherwise be
//! sent 1,000 of them, times every viewer of the storm.

use std::collections::VecDeque;

use protocol::{EventKind, RoomEvent};

/// A contiguous stretch of one room's log: every event with an offset in
/// `(base, upto]` that is not deleted, oldest first, at most `capacity`.
#[derive(Debug)]
pub struct RecentEvents {
    base: u64,
    upto: u64,
    events: VecDeque<RoomEvent>,
    capacity: usize,
    /// Whether the events hold every comment the log still holds (filled
    /// from the log's whole capacity), so a snapshot may be answered with
    /// fewer comments than asked.
    complete: bool,
}

/// What the recent events can say about a resume from an offset.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// Every event after the offset, up to [`RecentEvents::upto`].
    Found(Vec<RoomEvent>),
    /// The offset is older than what is kept.
    TooOld,
    /// The offset is beyond what was released.
    Ahead,
}

impl RecentEvents {
    /// Empty, covering nothing after `head`.
    pub fn new(head: u64, capacity: usize) -> Self {
        RecentEvents {
            base: head,
            upto: head,
            events: VecDeque::new(),
            capacity: capacity.max(1),
            complete: head == 0,
        }
    }

    /// The last offset covered.
    pub fn upto(&self) -> u64 {
        self.upto
    }

    /// The offset after which coverage starts.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// Records events released in offset order up to `upto` (offsets in
    /// between that are missing were deleted). Deletions drop the comments
    /// they name, as a log replay would.
    pub fn release(&mut self, events: &[RoomEvent], upto: u64) {
        let after = self.upto;
        for e in events.iter().filter(|e| e.offset > after) {
            match &e.kind {
                EventKind::CommentDeleted(d) => self.drop_offsets(&d.offsets, None),
                EventKind::UserPurged(p) => self.drop_offsets(&p.offsets, Some(&p.user)),
                _ => {}
            }
            self.events.push_back(e.clone());
        }
        self.upto = self.upto.max(upto);
        while self.events.len() > self.capacity {
            if let Some(old) = self.events.pop_front() {
                self.base = old.offset;
            }
        }
    }

    /// Forgets everything: the offsets up to `head` can no longer be vouched
    /// for (the log lost a gap, or was reset).
    pub fn reset(&mut self, head: u64) {
        self.events.clear();
        self.base = head;
        self.upto = head;
        self.complete = head == 0;
    }

    /// Notes that the events hold every comment the log still holds.
    pub fn mark_complete(&mut self) {
        self.complete = true;
    }

    /// Extends coverage back to `from` with events read from the log (every
    /// event after `from` that is not deleted, oldest first); whether it did
    /// (not when they would not fit).
    pub fn backfill(&mut self, from: u64, log: Vec<RoomEvent>) -> bool {
        if from >= self.base {
            return from == self.base;
        }
        let older: Vec<RoomEvent> = log
            .into_iter()
            .filter(|e| e.offset > from && e.offset <= self.base)
            .collect();
        if self.events.len() + older.len() > self.capacity {
            return false;
        }
        for e in older.into_iter().rev() {
            self.events.push_front(e);
        }
        self.base = from;
        true
    }

    /// Every event after `from`, keeping only the newest `max_comments`
    /// comments.
    pub fn after(&self, from: u64, max_comments: usize) -> Lookup {
        if from < self.base {
            return Lookup::TooOld;
        }
        if from > self.upto {
            return Lookup::Ahead;
        }
        let start = self.events.partition_point(|e| e.offset <= from);
        let range = self.events.range(start..);
        let comments = range.clone().filter(|e| is_comment(e)).count();
        let mut keep = newest_only(comments, max_comments);
        Lookup::Found(
            range
                .filter(|e| !e.kind.is_internal() && keep(e))
                .cloned()
                .collect(),
        )
    }

    /// The newest `n` comments, oldest first, as a join snapshot's
    /// `recent`; `None` when fewer are held and the log may hold older ones
    /// (the hub started after the log did and has not read it back).
    pub fn newest(&self, n: usize) -> Option<Vec<RoomEvent>> {
        let comments: Vec<&RoomEvent> = self.events.iter().filter(|e| is_comment(e)).collect();
        if comments.len() < n && !self.complete {
            return None;
        }
        let from = comments.len().saturating_sub(n);
        Some(comments[from..].iter().map(|e| (*e).clone()).collect())
    }

    fn drop_offsets(&mut self, offsets: &[u64], user: Option<&str>) {
        self.events.retain(|e| match &e.kind {
            EventKind::Comment(c) => {
                !offsets.contains(&e.offset) && user.is_none_or(|u| c.user != u)
            }
            _ => true,
        });
    }
}

fn is_comment(e: &RoomEvent) -> bool {
    matches!(e.kind, EventKind::Comment(_))
}

/// Keeps every event but the comments older than the newest `max_comments`.
pub fn newest_comments(mut events: Vec<RoomEvent>, max_comments: usize) -> Vec<RoomEvent> {
    events.retain(|e| !e.kind.is_internal());
    let comments = events.iter().filter(|e| is_comment(e)).count();
    events.retain(newest_only(comments, max_comments));
    events
}

/// A filter for events in order, of which `comments` are comments, that
/// drops all but the newest `max_comments` comments.
fn newest_only(comments: usize, max_comments: usize) -> impl FnMut(&RoomEvent) -> bool {
    let mut skip = comments.saturating_sub(max_comments);
    move |e| {
        let drop = skip > 0 && is_comment(e);
        skip -= usize::from(drop);
        !drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Comment, CommentDeleted, Role, UserPurged};

    #[test]
    fn a_snapshot_from_memory_needs_enough_comments_or_the_whole_log() {
        let mut r = RecentEvents::new(0, 100);
        r.release(&[comment(1, "a"), comment(2, "b"), comment(3, "a")], 3);
        let offsets = |v: Vec<RoomEvent>| v.iter().map(|e| e.offset).collect::<Vec<_>>();
        assert_eq!(r.newest(2).map(offsets), Some(vec![2, 3]));
        // Fewer than asked, but the hub saw the log from its start.
        assert_eq!(r.newest(5).map(offsets), Some(vec![1, 2, 3]));
        // A hub that started at offset 10 cannot vouch for older comments,
        // until it has read back what the log holds.
        let mut late = RecentEvents::new(10, 100);
        late.release(&[comment(11, "a")], 11);
        assert_eq!(late.newest(1).map(offsets), Some(vec![11]));
        assert_eq!(late.newest(2), None);
        assert!(late.backfill(8, vec![comment(9, "b"), comment(10, "c")]));
        late.mark_complete();
        assert_eq!(late.newest(5).map(offsets), Some(vec![9, 10, 11]));
    }

    fn comment(offset: u64, user: &str) -> RoomEvent {
        RoomEvent {
            offset,
            ts: 0,
            kind: EventKind::Comment(Comment {
                user: user.into(),
                nick: user.into(),
                text: format!("c{offset}"),
                role: Role::Viewer,
            }),
        }
    }

    impl RecentEvents {
        fn after_all(&self, from: u64) -> Lookup {
            self.after(from, usize::MAX)
        }
    }

    fn offsets(l: Lookup) -> Vec<u64> {
        match l {
            Lookup::Found(v) => v.iter().map(|e| e.offset).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_within_coverage_and_refuses_outside() {
        let mut r = RecentEvents::new(10, 100);
        assert_eq!(offsets(r.after_all(10)), Vec::<u64>::new());
        r.release(&[comment(11, "a"), comment(13, "b")], 13);
        assert_eq!(offsets(r.after_all(10)), [11, 13]);
        assert_eq!(offsets(r.after_all(11)), [13]);
        assert_eq!(offsets(r.after_all(13)), Vec::<u64>::new());
        assert_eq!(r.after_all(9), Lookup::TooOld);
        assert_eq!(r.after_all(14), Lookup::Ahead);
    }

    #[test]
    fn keeps_at_most_capacity_and_moves_the_base() {
        let mut r = RecentEvents::new(0, 3);
        let evs: Vec<_> = (1..=5).map(|o| comment(o, "a")).collect();
        r.release(&evs, 5);
        assert_eq!(r.base(), 2);
        assert_eq!(offsets(r.after_all(2)), [3, 4, 5]);
        assert_eq!(r.after_all(1), Lookup::TooOld);
        // Released twice (a gap refill): kept once.
        r.release(&evs[4..], 5);
        assert_eq!(offsets(r.after_all(2)), [3, 4, 5]);
    }

    #[test]
    fn only_the_newest_comments_and_every_other_event() {
        let mut r = RecentEvents::new(0, 100);
        let mut evs: Vec<_> = (1..=6).map(|o| comment(o, "a")).collect();
        evs.insert(
            1,
            RoomEvent {
                offset: 7,
                ts: 0,
                kind: EventKind::CommentDeleted(CommentDeleted { offsets: vec![] }),
            },
        );
        evs.sort_by_key(|e| e.offset);
        r.release(&evs, 7);
        assert_eq!(offsets(r.after(0, 2)), [5, 6, 7]);
        assert_eq!(offsets(r.after(4, 2)), [5, 6, 7]);
        assert_eq!(offsets(r.after(5, 0)), [7]);
        let kept: Vec<u64> = newest_comments(evs, 1).iter().map(|e| e.offset).collect();
        assert_eq!(kept, [6, 7]);
    }

    #[test]
    fn deletions_and_purges_drop_comments() {
        let mut r = RecentEvents::new(0, 100);
        r.release(&[comment(1, "a"), comment(2, "troll"), comment(3, "b")], 3);
        let del = RoomEvent {
            offset: 4,
            ts: 0,
            kind: EventKind::CommentDeleted(CommentDeleted { offsets: vec![1] }),
        };
        let purge = RoomEvent {
            offset: 5,
            ts: 0,
            kind: EventKind::UserPurged(UserPurged {
                user: "troll".into(),
                offsets: vec![],
            }),
        };
        r.release(&[del, purge], 5);
        assert_eq!(offsets(r.after_all(0)), [3, 4, 5]);
    }

    #[test]
    fn backfill_extends_back_and_reset_forgets() {
        let mut r = RecentEvents::new(10, 5);
        r.release(&[comment(11, "a")], 11);
        let log: Vec<_> = (8..=11).map(|o| comment(o, "a")).collect();
        r.backfill(7, log);
        assert_eq!(r.base(), 7);
        assert_eq!(offsets(r.after_all(7)), [8, 9, 10, 11]);
        // Past capacity: not extended.
        let log: Vec<_> = (1..=11).map(|o| comment(o, "a")).collect();
        r.backfill(0, log);
        assert_eq!(r.after_all(0), Lookup::TooOld);
        r.reset(20);
        assert_eq!(r.after_all(11), Lookup::TooOld);
        assert_eq!(offsets(r.after_all(20)), Vec::<u64>::new());
    }
}
