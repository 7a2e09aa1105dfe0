//! The room lifecycle as a pure state machine over the platform codes:
//! 102 → 101 ⇄ 105 → 103; 106 when the anchor drops (resumable for a while,
//! then 103); a live is capped in length; no start after the planned end.

use protocol::{ErrorCode, LiveAction, Rejection, RoomStatus};

use super::model::Room;

/// Durations the lifecycle depends on.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long an abnormal room may be resumed, ms.
    pub abnormal_timeout_ms: i64,
    /// Longest live, ms.
    pub max_live_ms: i64,
}

/// Something that moves a room between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Anchor or admin: start, pause, resume or end.
    Live(LiveAction),
    /// Admin: ban the room.
    Ban,
    /// The anchor's last connection dropped without ending the live.
    AnchorLost,
    /// Timer: the abnormal window passed.
    AbnormalTimeout,
    /// Timer: the live reached its maximum length.
    MaxDuration,
}

impl Transition {
    /// Reason carried in the status event.
    pub fn reason(self) -> &'static str {
        match self {
            Transition::Live(LiveAction::Start) => "started",
            Transition::Live(LiveAction::Pause) => "paused",
            Transition::Live(LiveAction::Resume) => "resumed",
            Transition::Live(LiveAction::End) => "ended",
            Transition::Ban => "banned",
            Transition::AnchorLost => "anchor_disconnected",
            Transition::AbnormalTimeout => "abnormal_timeout",
            Transition::MaxDuration => "max_duration",
        }
    }
}

impl Transition {
    /// What the transition does, for refusal messages.
    pub fn verb(self) -> &'static str {
        match self {
            Transition::Live(LiveAction::Start) => "start",
            Transition::Live(LiveAction::Pause) => "pause",
            Transition::Live(LiveAction::Resume) => "resume",
            Transition::Live(LiveAction::End) => "end",
            Transition::Ban => "ban",
            Transition::AnchorLost => "mark abnormal",
            Transition::AbnormalTimeout => "time out",
            Transition::MaxDuration => "cap",
        }
    }
}

fn refuse(from: RoomStatus, t: Transition) -> Rejection {
    Rejection::new(
        ErrorCode::InvalidTransition,
        format!("cannot {} a room in status {}", t.verb(), from.code()),
    )
}

/// Applies `t` at `now` (unix ms). On `Ok` the room changed; a start after
/// the planned end moves the room to 107 and is still `Ok`: the caller tells
/// the anchor with [`ErrorCode::RoomExpired`].
pub fn apply(room: &mut Room, t: Transition, now: i64, timing: Timing) -> Result<(), Rejection> {
    use RoomStatus::*;
    let from = room.status;
    let to = match (t, from) {
        (Transition::Live(LiveAction::Start), NotStarted) => {
            if now > room.planned_end {
                Expired
            } else {
                room.live_started_at = Some(now);
                Live
            }
        }
        (Transition::Live(LiveAction::Pause), Live) => Paused,
        (Transition::Live(LiveAction::Resume), Paused | Abnormal) => {
            let started = room.live_started_at.unwrap_or(now);
            if now - started >= timing.max_live_ms {
                return Err(Rejection::new(
                    ErrorCode::InvalidTransition,
                    "the live reached its maximum length",
                ));
            }
            room.abnormal_since = None;
            Live
        }
        (Transition::Live(LiveAction::End), Live | Paused | Abnormal) => Ended,
        (Transition::Ban, s) if s != Banned => Banned,
        (Transition::AnchorLost, Live | Paused) => {
            room.abnormal_since = Some(now);
            Abnormal
        }
        (Transition::AbnormalTimeout, Abnormal)
            if now - room.abnormal_since.unwrap_or(now) >= timing.abnormal_timeout_ms =>
        {
            Ended
        }
        (Transition::MaxDuration, Live | Paused | Abnormal)
            if now - room.live_started_at.unwrap_or(now) >= timing.max_live_ms =>
        {
            Ended
        }
        _ => return Err(refuse(from, t)),
    };
    if matches!(to, Ended | Banned) {
        room.ended_at = Some(now);
    }
    room.status = to;
    Ok(())
}

/// When the room's next timer is due, if any (unix ms).
pub fn next_deadline(room: &Room, timing: Timing) -> Option<(i64, Transition)> {
    let cap = room
        .live_started_at
        .map(|s| (s + timing.max_live_ms, Transition::MaxDuration));
    match room.status {
        RoomStatus::Abnormal => {
            let abn = room
                .abnormal_since
                .map(|s| (s + timing.abnormal_timeout_ms, Transition::AbnormalTimeout));
            [abn, cap].into_iter().flatten().min_by_key(|(at, _)| *at)
        }
        RoomStatus::Live | RoomStatus::Paused => cap,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Switches;

    const T: Timing = Timing {
        abnormal_timeout_ms: 15 * 60_000,
        max_live_ms: 12 * 3_600_000,
    };

    fn room() -> Room {
        Room {
            id: "r".into(),
            title: String::new(),
            anchor: "a".into(),
            planned_start: 1_000,
            planned_end: 100_000,
            switches: Switches::default(),
            status: RoomStatus::NotStarted,
            live_started_at: None,
            abnormal_since: None,
            ended_at: None,
            moderation: Default::default(),
            lotteries: vec![],
            preview: None,
            commerce: Default::default(),
            notices: Default::default(),
            costream: Default::default(),
            version: 1,
        }
    }

    fn live(a: LiveAction) -> Transition {
        Transition::Live(a)
    }

    #[test]
    fn the_happy_path_and_early_start() {
        let mut r = room();
        apply(&mut r, live(LiveAction::Start), 500, T).unwrap();
        assert_eq!(r.status, RoomStatus::Live);
        apply(&mut r, live(LiveAction::Pause), 600, T).unwrap();
        assert_eq!(r.status, RoomStatus::Paused);
        apply(&mut r, live(LiveAction::Resume), 700, T).unwrap();
        apply(&mut r, live(LiveAction::End), 800, T).unwrap();
        assert_eq!(r.status, RoomStatus::Ended);
        assert_eq!(r.ended_at, Some(800));
        assert!(apply(&mut r, live(LiveAction::Start), 900, T).is_err());
    }

    #[test]
    fn no_start_after_the_planned_end() {
        let mut r = room();
        apply(&mut r, live(LiveAction::Start), 100_001, T).unwrap();
        assert_eq!(r.status, RoomStatus::Expired);
    }

    #[test]
    fn abnormal_resumes_within_the_window_and_ends_after_it() {
        let mut r = room();
        apply(&mut r, live(LiveAction::Start), 0, T).unwrap();
        apply(&mut r, Transition::AnchorLost, 10, T).unwrap();
        assert_eq!(r.status, RoomStatus::Abnormal);
        assert!(
            apply(
                &mut r,
                Transition::AbnormalTimeout,
                10 + T.abnormal_timeout_ms - 1,
                T
            )
            .is_err()
        );
        apply(&mut r, live(LiveAction::Resume), 20, T).unwrap();
        assert_eq!(r.status, RoomStatus::Live);
        apply(&mut r, Transition::AnchorLost, 30, T).unwrap();
        assert_eq!(next_deadline(&r, T).unwrap().0, 30 + T.abnormal_timeout_ms);
        apply(
            &mut r,
            Transition::AbnormalTimeout,
            30 + T.abnormal_timeout_ms,
            T,
        )
        .unwrap();
        assert_eq!(r.status, RoomStatus::Ended);
    }

    #[test]
    fn the_live_is_capped() {
        let mut r = room();
        apply(&mut r, live(LiveAction::Start), 0, T).unwrap();
        assert!(apply(&mut r, Transition::MaxDuration, T.max_live_ms - 1, T).is_err());
        apply(&mut r, Transition::MaxDuration, T.max_live_ms, T).unwrap();
        assert_eq!(r.status, RoomStatus::Ended);
    }

    #[test]
    fn anchor_loss_only_matters_while_live_or_paused() {
        let mut r = room();
        assert!(apply(&mut r, Transition::AnchorLost, 0, T).is_err());
        assert_eq!(r.status, RoomStatus::NotStarted);
    }
}
