//! The co-stream state as the room record keeps it ([`CostreamSlot`]) and
//! the state machine over it: pure functions of the slot, the caller, the
//! step and `now`, run inside the store's compare-and-set on the record,
//! so two steps racing on two nodes are settled by the store (the loser
//! re-runs on the winner's record and is refused).

use protocol::costream::{
    Applicant, CostreamLive, CostreamPhase, CostreamState, CostreamStep, Media,
};
use protocol::{ErrorCode, Rejection};
use serde::{Deserialize, Serialize};

/// The room's co-stream: the switch, the applicants and the one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostreamSlot {
    /// Whether viewers may apply.
    #[serde(default)]
    pub enabled: bool,
    /// Applicants, oldest first.
    #[serde(default)]
    pub applicants: Vec<Applicant>,
    /// The pending or live session.
    #[serde(default)]
    pub current: Option<Session>,
    /// The last session id given out (ids are 1, 2, ... per room).
    #[serde(default)]
    pub last_id: u64,
    /// The room's anchor-to-anchor link, invited or live (`link.rs`).
    #[serde(default)]
    pub link: Option<super::link::Link>,
}

/// One co-stream session between the anchor and a guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Session id.
    pub id: u64,
    /// The guest.
    pub guest: String,
    /// The guest's nickname.
    pub nick: String,
    /// Voice or video.
    pub media: Media,
    /// The step (never `ended`: an ended session leaves the slot).
    pub phase: CostreamPhase,
    /// Whether the guest is muted.
    pub muted: bool,
    /// Whether the anchor muted them (then only the anchor unmutes).
    pub muted_by_anchor: bool,
    /// When the pending step expires, unix ms (0 once live).
    pub expires_at: i64,
    /// Since when the anchor's last connection is gone, unix ms (0: here).
    #[serde(default)]
    pub anchor_gone_at: i64,
    /// Since when the guest's last connection is gone, unix ms (0: here).
    #[serde(default)]
    pub guest_gone_at: i64,
}

impl CostreamSlot {
    /// Whether the slot is the default (left out of the stored record).
    pub fn is_empty(&self) -> bool {
        *self == CostreamSlot::default()
    }

    /// When the room's timer has co-stream work: a pending step expires,
    /// a party's grace ends, or (live) the next presence check, `check_ms`
    /// after `now` (not stored: a check that finds both parties changes
    /// nothing).
    pub fn next_deadline(&self, grace_ms: i64, now: i64, check_ms: i64) -> Option<i64> {
        let link = self.link.as_ref().and_then(super::link::Link::deadline);
        let Some(s) = self.current.as_ref() else {
            return link;
        };
        if s.phase != CostreamPhase::Live {
            return Some(s.expires_at).into_iter().chain(link).min();
        }
        [s.anchor_gone_at, s.guest_gone_at]
            .into_iter()
            .filter(|at| *at > 0)
            .map(|at| at + grace_ms)
            .chain([now + check_ms])
            .chain(link)
            .min()
    }

    /// The public state, with the reason of the change.
    pub fn public(&self, reason: Option<&str>) -> CostreamState {
        CostreamState {
            enabled: self.enabled,
            live: self.current.as_ref().and_then(Session::public),
            reason: reason.map(str::to_string),
        }
    }
}

impl Session {
    /// The session as the room sees it, when live.
    pub fn public(&self) -> Option<CostreamLive> {
        (self.phase == CostreamPhase::Live).then(|| CostreamLive {
            session: self.id,
            guest: self.guest.clone(),
            nick: self.nick.clone(),
            media: self.media,
            muted: self.muted,
        })
    }

    /// Why a live session's step changed without ending: a party away
    /// (within the grace), else none.
    fn away(&self) -> Option<&'static str> {
        if self.anchor_gone_at > 0 {
            Some("anchor_away")
        } else if self.guest_gone_at > 0 {
            Some("guest_away")
        } else {
            None
        }
    }

    /// The session's step as its parties see it.
    pub fn step(&self, anchor: &str, ended: Option<&str>) -> CostreamStep {
        let pending = self.phase != CostreamPhase::Live && ended.is_none();
        CostreamStep {
            session: self.id,
            anchor: anchor.to_string(),
            guest: self.guest.clone(),
            nick: self.nick.clone(),
            media: self.media,
            phase: if ended.is_some() {
                CostreamPhase::Ended
            } else {
                self.phase
            },
            muted: self.muted,
            expires_at: pending.then_some(self.expires_at),
            reason: ended.or_else(|| self.away()).map(str::to_string),
        }
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The room's anchor.
    Anchor,
    /// Anyone else (a viewer, an assistant).
    Other,
}

/// One step of the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Co-stream on or off.
    Enable(bool),
    /// Apply (or switch the type).
    Apply {
        /// Nickname.
        nick: String,
        /// Voice or video.
        media: Media,
    },
    /// Withdraw the application.
    Cancel,
    /// Accept an applicant.
    Accept(String),
    /// Invite a viewer.
    Invite {
        /// The viewer.
        user: String,
        /// Voice or video.
        media: Media,
    },
    /// Confirm the session's pending step (with the confirmer's nickname,
    /// which an invitation may lack).
    Confirm(u64, String),
    /// Decline the pending session.
    Decline(u64),
    /// Mute or unmute the guest.
    Mute(u64, bool),
    /// End the session.
    End(u64),
    /// The timer: end the pending step if it expired.
    Expire(u64),
    /// The room left 101, or the guest is gone: end whatever is current.
    Stop(&'static str),
    /// The party's last connection went away: the grace starts.
    Gone,
    /// The party is connected again within the grace: the same session
    /// goes on.
    Back,
    /// The timer: whether each party is still connected on a live node.
    Check {
        /// The anchor's user is in the directory.
        anchor_present: bool,
        /// The guest's user is in the directory.
        guest_present: bool,
    },
}

/// What a step changed, for the events that announce it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The public state changed: the `costream` event's reason.
    pub public: Option<&'static str>,
    /// The session whose step changed, with the end reason when it ended.
    pub step: Option<(Session, Option<&'static str>)>,
    /// The applicant list changed.
    pub applicants: bool,
}

/// The rules a step runs under.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// How long a pending step waits, ms.
    pub pending_ms: i64,
    /// Most applicants.
    pub max_applicants: usize,
    /// How long a party may be away before the session ends, ms.
    pub grace_ms: i64,
}

fn refuse(code: ErrorCode, message: &str) -> Rejection {
    Rejection::new(code, message)
}

/// Applies `step` by `user` (`party`) at `now`.
pub fn apply(
    slot: &mut CostreamSlot,
    user: &str,
    party: Party,
    step: &Step,
    now: i64,
    rules: Rules,
) -> Result<Outcome, Rejection> {
    let mut out = Outcome::default();
    match step {
        Step::Enable(on) => {
            if slot.enabled == *on {
                return Ok(out);
            }
            slot.enabled = *on;
            out.public = Some(if *on { "enabled" } else { "disabled" });
            if !*on {
                out.applicants = !slot.applicants.is_empty();
                slot.applicants.clear();
                out.step = slot.current.take().map(|s| (s, Some("disabled")));
            }
        }
        Step::Apply { nick, media } => {
            if party == Party::Anchor {
                return Err(refuse(ErrorCode::Forbidden, "the anchor does not apply"));
            }
            if !slot.enabled {
                return Err(disabled());
            }
            if slot.current.as_ref().is_some_and(|s| s.guest == user) {
                return Err(refuse(
                    ErrorCode::InvalidTransition,
                    "already in this room's co-stream",
                ));
            }
            if let Some(a) = slot.applicants.iter_mut().find(|a| a.user == user) {
                a.media = *media;
            } else {
                if slot.applicants.len() >= rules.max_applicants {
                    return Err(refuse(
                        ErrorCode::ApplicantsFull,
                        "the co-stream applicant list is full",
                    ));
                }
                slot.applicants.push(Applicant {
                    user: user.to_string(),
                    nick: nick.clone(),
                    media: *media,
                    at: now,
                });
            }
            out.applicants = true;
        }
        Step::Cancel => {
            let before = slot.applicants.len();
            slot.applicants.retain(|a| a.user != user);
            if slot.applicants.len() == before {
                return Err(refuse(ErrorCode::NotFound, "no application to cancel"));
            }
            out.applicants = true;
        }
        Step::Accept(guest) | Step::Invite { user: guest, .. } => {
            if !slot.enabled {
                return Err(disabled());
            }
            if slot.current.is_some() || slot.link.is_some() {
                return Err(refuse(
                    ErrorCode::CostreamBusy,
                    "a co-stream or link is already live or pending",
                ));
            }
            let pos = slot.applicants.iter().position(|a| a.user == *guest);
            let (nick, media, phase) = match (step, pos) {
                (Step::Accept(_), Some(i)) => {
                    let a = slot.applicants.remove(i);
                    (a.nick, a.media, CostreamPhase::Accepted)
                }
                (Step::Accept(_), None) => {
                    return Err(refuse(ErrorCode::NotFound, "no such applicant"));
                }
                (Step::Invite { media, .. }, pos) => {
                    let nick = pos.map(|i| slot.applicants.remove(i).nick);
                    let nick = nick.unwrap_or_default();
                    (nick, *media, CostreamPhase::Invited)
                }
                _ => return Err(refuse(ErrorCode::Internal, "unreachable step")),
            };
            out.applicants = pos.is_some();
            slot.last_id += 1;
            let s = Session {
                id: slot.last_id,
                guest: guest.clone(),
                nick,
                media,
                phase,
                muted: false,
                muted_by_anchor: false,
                expires_at: now + rules.pending_ms,
                anchor_gone_at: 0,
                guest_gone_at: 0,
            };
            slot.current = Some(s.clone());
            out.step = Some((s, None));
        }
        Step::Confirm(id, nick) => {
            let s = current(slot, *id)?;
            match (party, s.phase, s.guest == user) {
                (Party::Anchor, CostreamPhase::Accepted, _) => {
                    s.phase = CostreamPhase::AnchorConfirmed;
                    s.expires_at = now + rules.pending_ms;
                }
                (Party::Other, CostreamPhase::AnchorConfirmed | CostreamPhase::Invited, true) => {
                    s.phase = CostreamPhase::Live;
                    s.expires_at = 0;
                    if s.nick.is_empty() {
                        s.nick = nick.clone();
                    }
                    out.public = Some("started");
                }
                (Party::Other, _, false) => return Err(not_party()),
                _ => {
                    return Err(refuse(
                        ErrorCode::InvalidTransition,
                        "this step is not yours to confirm now",
                    ));
                }
            }
            out.step = Some((s.clone(), None));
        }
        Step::Decline(id) => {
            let s = current(slot, *id)?;
            if s.guest != user {
                return Err(not_party());
            }
            if s.phase == CostreamPhase::Live {
                return Err(refuse(
                    ErrorCode::InvalidTransition,
                    "the co-stream is live: end it instead",
                ));
            }
            out.step = slot.current.take().map(|s| (s, Some("declined")));
        }
        Step::Mute(id, muted) => {
            let s = current(slot, *id)?;
            if party == Party::Other && s.guest != user {
                return Err(not_party());
            }
            if s.phase != CostreamPhase::Live {
                return Err(refuse(
                    ErrorCode::InvalidTransition,
                    "the co-stream is not live yet",
                ));
            }
            if party == Party::Other && !*muted && s.muted_by_anchor {
                return Err(refuse(
                    ErrorCode::Forbidden,
                    "the anchor muted you; only the anchor unmutes",
                ));
            }
            if s.muted != *muted {
                s.muted = *muted;
                s.muted_by_anchor = *muted && party == Party::Anchor;
                out.public = Some(if *muted { "muted" } else { "unmuted" });
                out.step = Some((s.clone(), None));
            }
        }
        Step::End(id) => {
            let s = current(slot, *id)?;
            if party == Party::Other && s.guest != user {
                return Err(not_party());
            }
            let reason = match party {
                Party::Anchor => "ended_by_anchor",
                Party::Other => "ended_by_guest",
            };
            out = ended(slot, reason);
        }
        Step::Expire(id) => {
            let s = current(slot, *id)?;
            if s.phase == CostreamPhase::Live || s.expires_at > now {
                return Err(refuse(ErrorCode::InvalidTransition, "not expired"));
            }
            out = ended(slot, "expired");
        }
        Step::Gone | Step::Back => {
            let anchor = party == Party::Anchor;
            let Some(s) = slot
                .current
                .as_mut()
                .filter(|s| s.phase == CostreamPhase::Live && (anchor || s.guest == user))
            else {
                return Err(refuse(ErrorCode::NotFound, "not in a live co-stream"));
            };
            let at = if anchor {
                &mut s.anchor_gone_at
            } else {
                &mut s.guest_gone_at
            };
            let next = if *step == Step::Gone { now } else { 0 };
            if (*at > 0) == (next > 0) {
                return Err(refuse(ErrorCode::NotFound, "nothing changed"));
            }
            *at = next;
            out.step = Some((s.clone(), None));
        }
        Step::Check {
            anchor_present,
            guest_present,
        } => {
            let Some(s) = slot
                .current
                .as_mut()
                .filter(|s| s.phase == CostreamPhase::Live)
            else {
                return Err(refuse(ErrorCode::NotFound, "no live co-stream"));
            };
            let over = |gone: i64| gone > 0 && gone + rules.grace_ms <= now;
            // Absent from the directory without a disconnect seen: the
            // party's node died.
            let reason = if !anchor_present && s.anchor_gone_at == 0 {
                Some("anchor_lost")
            } else if !guest_present && s.guest_gone_at == 0 {
                Some("guest_lost")
            } else if over(s.anchor_gone_at) {
                Some("anchor_left")
            } else if over(s.guest_gone_at) {
                Some("guest_left")
            } else {
                None
            };
            match reason {
                Some(r) => out = ended(slot, r),
                None => return Err(refuse(ErrorCode::NotFound, "nothing due")),
            }
        }
        Step::Stop(reason) => {
            if slot.current.is_none() {
                return Err(refuse(ErrorCode::NotFound, "no co-stream"));
            }
            out = ended(slot, reason);
        }
    }
    Ok(out)
}

/// Ends the current session: public when it was live.
fn ended(slot: &mut CostreamSlot, reason: &'static str) -> Outcome {
    let s = slot.current.take();
    Outcome {
        public: s
            .as_ref()
            .filter(|s| s.phase == CostreamPhase::Live)
            .map(|_| reason),
        step: s.map(|s| (s, Some(reason))),
        applicants: false,
    }
}

fn current(slot: &mut CostreamSlot, id: u64) -> Result<&mut Session, Rejection> {
    slot.current.as_mut().filter(|s| s.id == id).ok_or_else(|| {
        refuse(
            ErrorCode::CostreamStale,
            "no such co-stream session now (ended, expired or never was)",
        )
    })
}

fn disabled() -> Rejection {
    refuse(ErrorCode::CostreamDisabled, "co-stream is off in this room")
}

fn not_party() -> Rejection {
    refuse(ErrorCode::Forbidden, "not a party of this co-stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        pending_ms: 1000,
        max_applicants: 2,
        grace_ms: 500,
    };

    fn run(
        slot: &mut CostreamSlot,
        user: &str,
        step: Step,
        now: i64,
    ) -> Result<Outcome, ErrorCode> {
        let party = if user == "anna" {
            Party::Anchor
        } else {
            Party::Other
        };
        apply(slot, user, party, &step, now, RULES).map_err(|r| r.code)
    }

    fn apply_step(media: Media) -> Step {
        Step::Apply {
            nick: "n".into(),
            media,
        }
    }

    #[test]
    fn apply_accept_confirm_confirm_then_mute_and_end() {
        let mut s = CostreamSlot::default();
        assert_eq!(
            run(&mut s, "vic", apply_step(Media::Voice), 0),
            Err(ErrorCode::CostreamDisabled)
        );
        assert_eq!(
            run(&mut s, "anna", Step::Enable(true), 0).unwrap().public,
            Some("enabled")
        );
        run(&mut s, "vic", apply_step(Media::Voice), 1).unwrap();
        run(&mut s, "vic", apply_step(Media::Video), 2).unwrap();
        assert_eq!(s.applicants[0].media, Media::Video);
        assert_eq!(s.applicants[0].at, 1);
        run(&mut s, "amy", apply_step(Media::Voice), 3).unwrap();
        assert_eq!(
            run(&mut s, "bob", apply_step(Media::Voice), 3),
            Err(ErrorCode::ApplicantsFull)
        );
        assert_eq!(
            run(&mut s, "anna", Step::Accept("zed".into()), 4),
            Err(ErrorCode::NotFound)
        );
        run(&mut s, "anna", Step::Accept("vic".into()), 4).unwrap();
        assert_eq!(
            run(&mut s, "anna", Step::Accept("amy".into()), 4),
            Err(ErrorCode::CostreamBusy)
        );
        // Out of order: the guest cannot confirm before the anchor.
        assert_eq!(
            run(&mut s, "vic", Step::Confirm(1, "n".into()), 5),
            Err(ErrorCode::InvalidTransition)
        );
        assert_eq!(
            run(&mut s, "anna", Step::Confirm(2, "n".into()), 5),
            Err(ErrorCode::CostreamStale)
        );
        run(&mut s, "anna", Step::Confirm(1, "n".into()), 5).unwrap();
        assert_eq!(
            run(&mut s, "amy", Step::Confirm(1, "n".into()), 5),
            Err(ErrorCode::Forbidden)
        );
        let o = run(&mut s, "vic", Step::Confirm(1, "n".into()), 6).unwrap();
        assert_eq!(o.public, Some("started"));
        assert_eq!(s.public(None).live.unwrap().guest, "vic");
        run(&mut s, "anna", Step::Mute(1, true), 7).unwrap();
        assert_eq!(
            run(&mut s, "vic", Step::Mute(1, false), 7),
            Err(ErrorCode::Forbidden)
        );
        run(&mut s, "anna", Step::Mute(1, false), 7).unwrap();
        run(&mut s, "vic", Step::Mute(1, true), 7).unwrap();
        run(&mut s, "vic", Step::Mute(1, false), 7).unwrap();
        assert_eq!(
            run(&mut s, "vic", Step::Expire(1), 99_999),
            Err(ErrorCode::InvalidTransition)
        );
        let o = run(&mut s, "vic", Step::End(1), 8).unwrap();
        assert_eq!(o.public, Some("ended_by_guest"));
        assert_eq!(
            run(&mut s, "anna", Step::End(1), 9),
            Err(ErrorCode::CostreamStale)
        );
    }

    #[test]
    fn invitations_expire_and_pending_ends_are_private() {
        let mut s = CostreamSlot::default();
        run(&mut s, "anna", Step::Enable(true), 0).unwrap();
        let o = run(
            &mut s,
            "anna",
            Step::Invite {
                user: "vic".into(),
                media: Media::Video,
            },
            0,
        )
        .unwrap();
        assert_eq!(o.step.unwrap().0.phase, CostreamPhase::Invited);
        assert_eq!(s.next_deadline(500, 0, 100), Some(1000));
        assert_eq!(
            run(&mut s, "vic", Step::Expire(1), 999),
            Err(ErrorCode::InvalidTransition)
        );
        let o = run(&mut s, "vic", Step::Expire(1), 1000).unwrap();
        assert_eq!((o.public, o.step.unwrap().1), (None, Some("expired")));
        assert_eq!(
            run(&mut s, "vic", Step::Confirm(1, "n".into()), 1001),
            Err(ErrorCode::CostreamStale)
        );
        run(
            &mut s,
            "anna",
            Step::Invite {
                user: "vic".into(),
                media: Media::Voice,
            },
            2000,
        )
        .unwrap();
        let o = run(&mut s, "vic", Step::Decline(2), 2001).unwrap();
        assert_eq!(o.step.unwrap().1, Some("declined"));
        assert_eq!(
            run(&mut s, "vic", Step::Cancel, 0),
            Err(ErrorCode::NotFound)
        );
        run(&mut s, "vic", apply_step(Media::Voice), 1).unwrap();
        let o = run(&mut s, "anna", Step::Enable(false), 2).unwrap();
        assert!(o.applicants && s.applicants.is_empty());
    }

    #[test]
    fn a_party_away_past_the_grace_or_on_a_dead_node_ends_the_session() {
        let mut s = CostreamSlot::default();
        run(&mut s, "anna", Step::Enable(true), 0).unwrap();
        let invite = Step::Invite {
            user: "vic".into(),
            media: Media::Voice,
        };
        run(&mut s, "anna", invite.clone(), 0).unwrap();
        run(&mut s, "vic", Step::Confirm(1, "n".into()), 10).unwrap();
        assert_eq!(s.next_deadline(500, 10, 100), Some(110));
        let here = Step::Check {
            anchor_present: true,
            guest_present: true,
        };
        assert_eq!(run(&mut s, "anna", here, 110), Err(ErrorCode::NotFound));
        // Away and back within the grace: the same session.
        let o = run(&mut s, "vic", Step::Gone, 200).unwrap();
        assert_eq!(o.step.unwrap().0.guest_gone_at, 200);
        assert_eq!(
            s.current
                .as_ref()
                .unwrap()
                .step("anna", None)
                .reason
                .as_deref(),
            Some("guest_away")
        );
        let gone = Step::Check {
            anchor_present: true,
            guest_present: false,
        };
        assert_eq!(s.next_deadline(500, 600, 1000), Some(700));
        assert_eq!(
            run(&mut s, "anna", gone.clone(), 600),
            Err(ErrorCode::NotFound)
        );
        run(&mut s, "vic", Step::Back, 650).unwrap();
        assert_eq!(
            run(&mut s, "vic", Step::Back, 650),
            Err(ErrorCode::NotFound)
        );
        // Away past the grace: over.
        run(&mut s, "vic", Step::Gone, 700).unwrap();
        assert_eq!(
            run(&mut s, "anna", gone.clone(), 1199),
            Err(ErrorCode::NotFound)
        );
        let o = run(&mut s, "anna", gone.clone(), 1200).unwrap();
        assert_eq!(o.step.unwrap().1, Some("guest_left"));
        // Absent without a disconnect seen: the node died.
        run(&mut s, "anna", invite, 2000).unwrap();
        run(&mut s, "vic", Step::Confirm(2, "n".into()), 2000).unwrap();
        let o = run(&mut s, "anna", gone, 2100).unwrap();
        assert_eq!(
            (o.public, o.step.unwrap().1),
            (Some("guest_lost"), Some("guest_lost"))
        );
    }
}
