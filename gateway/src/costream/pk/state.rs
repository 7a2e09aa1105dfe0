//! A running PK as a link's record copy carries it ([`PkRun`]) and the pure
//! rules over it: scores from the like totals, the result, the next timer
//! and the public `pk` event. No clock reads: `now` is passed in.

use protocol::pk::{PK_SCORE_EVERY_MS, PkEvent, PkReason, PkResult, PkState};
use serde::{Deserialize, Serialize};

use crate::costream::link::Link;

/// The most a room's admin part of a PK score may reach (`POST .../pk/score`).
pub const MAX_ADMIN_SCORE: u64 = 1_000_000_000_000;

/// A running PK. The inviting room's copy of the link decides; the invited
/// room's copy mirrors it (for its join snapshots), written after each
/// change with the link's `pk_rev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkRun {
    /// The PK id (from the inviting room's `costream.last_id`).
    pub id: u64,
    /// When it started, unix ms.
    pub started_at: i64,
    /// When its duration runs out, unix ms.
    pub ends_at: i64,
    /// Each room's like total when it started ([inviting, invited]).
    pub base: [u64; 2],
    /// Each room's admin part of the score.
    #[serde(default)]
    pub admin: [u64; 2],
    /// The scores last announced.
    #[serde(default)]
    pub scores: [u64; 2],
    /// When the scores were last announced (the start at first), unix ms.
    pub scored_at: i64,
}

impl PkRun {
    /// The scores now, from each room's like total now.
    pub fn scores_at(&self, likes: [u64; 2]) -> [u64; 2] {
        [0, 1].map(|i| {
            likes[i]
                .saturating_sub(self.base[i])
                .saturating_add(self.admin[i])
        })
    }

    /// When the inviting room's timer next has work for this PK: the end,
    /// or the next score check (due now once a second has passed since the
    /// last announcement).
    pub fn deadline(&self, now: i64) -> i64 {
        self.ends_at
            .min((self.scored_at + PK_SCORE_EVERY_MS).max(now))
    }

    /// Whether a score event may go out at `now` with `scores`.
    pub fn may_score(&self, scores: [u64; 2], now: i64) -> bool {
        scores != self.scores && now >= self.scored_at + PK_SCORE_EVERY_MS && now < self.ends_at
    }

    /// The public event for `link`'s rooms.
    pub fn event(&self, link: &Link, state: PkState) -> PkEvent {
        PkEvent {
            pk: self.id,
            link: link.live.link,
            rooms: vec![link.live.from_room.clone(), link.live.to_room.clone()],
            state,
            scores: self.scores.to_vec(),
            started_at: self.started_at,
            ends_at: self.ends_at,
            ended_at: None,
            result: None,
        }
    }

    /// The `pk` event of the PK as it stands (`joined.pk`, the admin API).
    pub fn current(&self, link: &Link) -> PkEvent {
        let state = if self.scored_at > self.started_at {
            PkState::Score
        } else {
            PkState::Started
        };
        self.event(link, state)
    }

    /// The `ended` event with the final `scores`. `left`: the room that
    /// left (`anchor_left`), which forfeits; otherwise the higher score
    /// wins and equal scores are a draw.
    pub fn ended(
        &self,
        link: &Link,
        scores: [u64; 2],
        reason: PkReason,
        left: Option<&str>,
        now: i64,
    ) -> PkEvent {
        let rooms = [&link.live.from_room, &link.live.to_room];
        let winner = match left {
            Some(gone) => rooms
                .iter()
                .find(|r| r.as_str() != gone)
                .map(|r| r.to_string()),
            None if scores[0] > scores[1] => Some(rooms[0].clone()),
            None if scores[1] > scores[0] => Some(rooms[1].clone()),
            None => None,
        };
        PkEvent {
            scores: scores.to_vec(),
            ended_at: Some(now),
            result: Some(PkResult { winner, reason }),
            ..self.event(link, PkState::Ended)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::costream::{CostreamPhase, LinkLive};

    fn link() -> Link {
        Link {
            live: LinkLive {
                link: 3,
                from_room: "a".into(),
                from_anchor: "anna".into(),
                to_room: "b".into(),
                to_anchor: "bob".into(),
            },
            phase: CostreamPhase::Live,
            expires_at: 0,
            pk: None,
            pk_rev: 0,
        }
    }

    fn run() -> PkRun {
        PkRun {
            id: 4,
            started_at: 1000,
            ends_at: 31_000,
            base: [10, 100],
            admin: [0, 0],
            scores: [0, 0],
            scored_at: 1000,
        }
    }

    #[test]
    fn scores_count_likes_since_the_start_plus_the_admin_part() {
        let mut pk = run();
        assert_eq!(pk.scores_at([10, 100]), [0, 0]);
        pk.admin = [5, 0];
        assert_eq!(pk.scores_at([12, 150]), [7, 50]);
        // A total below the base (a reset store) counts as no likes.
        assert_eq!(pk.scores_at([0, 0]), [5, 0]);
    }

    #[test]
    fn scores_go_out_at_most_once_a_second_and_only_when_changed() {
        let mut pk = run();
        assert!(!pk.may_score([1, 0], 1999));
        assert!(pk.may_score([1, 0], 2000));
        assert!(!pk.may_score([0, 0], 5000));
        assert!(
            !pk.may_score([1, 0], 31_000),
            "past the end only the end goes out"
        );
        assert_eq!(pk.deadline(1500), 2000);
        assert_eq!(pk.deadline(2500), 2500);
        pk.scored_at = 30_500;
        assert_eq!(pk.deadline(30_600), 31_000);
    }

    #[test]
    fn the_higher_score_wins_equal_is_a_draw_a_leaver_forfeits() {
        let (pk, l) = (run(), link());
        let win = |scores, left| {
            pk.ended(&l, scores, PkReason::TimeOver, left, 9)
                .result
                .unwrap()
                .winner
        };
        assert_eq!(win([3, 2], None).as_deref(), Some("a"));
        assert_eq!(win([3, 4], None).as_deref(), Some("b"));
        assert_eq!(win([4, 4], None), None);
        assert_eq!(win([9, 0], Some("a")).as_deref(), Some("b"));
        let e = pk.ended(&l, [1, 2], PkReason::EndedEarly, None, 9);
        assert_eq!(
            (e.state, e.ended_at, e.scores),
            (PkState::Ended, Some(9), vec![1, 2])
        );
        assert_eq!(pk.current(&l).state, PkState::Started);
    }
}
