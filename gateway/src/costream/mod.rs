//! Co-stream (连麦): the anchor talks with one viewer at a time, voice or
//! video; the gateway carries the state and the WebRTC signalling, never
//! media. The state rides in the room record (`Room::costream`,
//! [`CostreamSlot`]): every step is the store's compare-and-set on the
//! record running [`slot::apply`], so two steps racing on two nodes (two
//! accepts, say) are settled in the store and only the winner announces
//! the change. The public state goes to the room as a high-lane `costream`
//! event and is in every hub's record for join snapshots; the private
//! steps (`costream_step`, `costream_applicants`) and the relayed
//! signalling (`signal`, `relay.rs`) are targeted events to the parties,
//! never in the room log. Pending steps expire through the room timer.
//!
//! No store trait of its own: everything that must be atomic is in the
//! room record.

pub mod link;
pub mod pk;
pub mod relay;
pub mod slot;
pub mod ws;

use protocol::costream::{CostreamApplicants, CostreamView};
use protocol::{ErrorCode, EventKind, Rejection, RoomStatus};

pub use relay::Relay;
pub use slot::{CostreamSlot, Outcome, Party, Rules, Step};

use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// How long a party may be away (`costream_grace_ms`); the room record
/// does not carry it, so every node must run with the same value.
fn grace_ms(settings: &crate::config::Settings) -> i64 {
    settings.costream_grace_ms as i64
}

/// When the room's co-stream next needs the timer: a pending step's
/// expiry, a party's grace, the live session's presence check.
pub fn next_deadline(room: &Room, settings: &crate::config::Settings) -> Option<i64> {
    let check = settings.presence_interval_ms as i64;
    let now = now_ms();
    room.costream
        .next_deadline(grace_ms(settings), now, check)
        .into_iter()
        .chain(pk::next_deadline(room, now))
        .min()
}

/// `joined.costream` for `user`: the public state, and the user's own
/// session when they are one of its parties.
pub fn view(room: &Room, user: Option<&str>) -> CostreamView {
    let c = &room.costream;
    let mine = c
        .current
        .as_ref()
        .filter(|s| user.is_some_and(|u| u == s.guest || u == room.anchor));
    CostreamView {
        enabled: c.enabled,
        live: c.current.as_ref().and_then(slot::Session::public),
        mine: mine.map(|s| s.step(&room.anchor, None)),
        link: c
            .link
            .as_ref()
            .filter(|l| l.phase == protocol::costream::CostreamPhase::Live)
            .map(|l| l.live.clone()),
    }
}

/// Why a co-stream ends when its room moves to `status`.
pub fn stop_reason(status: RoomStatus) -> &'static str {
    match status {
        RoomStatus::Paused => "room_paused",
        RoomStatus::Abnormal => "room_abnormal",
        RoomStatus::Banned => "room_banned",
        _ => "room_ended",
    }
}

/// Whether `step` needs the room live.
fn needs_live(step: &Step) -> bool {
    matches!(
        step,
        Step::Apply { .. } | Step::Accept(_) | Step::Invite { .. } | Step::Confirm(..)
    )
}

impl Node {
    fn costream_rules(&self) -> Rules {
        Rules {
            pending_ms: self.settings.costream_pending_ms as i64,
            max_applicants: self.settings.costream_max_applicants,
            grace_ms: grace_ms(&self.settings),
        }
    }

    /// Runs one co-stream step by `user` in `room` atomically on the stored
    /// record, then announces what changed: the public `costream` event,
    /// the session's `costream_step` to both parties, the applicant list to
    /// the anchor. Returns the updated room and the outcome.
    pub async fn costream_step(
        &self,
        room: &str,
        user: &str,
        step: Step,
    ) -> Result<(Room, Outcome), Rejection> {
        let now = now_ms();
        let rules = self.costream_rules();
        let outcome = std::sync::Mutex::new(None);
        let updated = self
            .update_room(room, &|r| {
                if needs_live(&step) && r.status != RoomStatus::Live {
                    return Err(Rejection::new(
                        ErrorCode::RoomNotLive,
                        format!("room status is {}, co-stream needs 101", r.status.code()),
                    ));
                }
                let party = if user == r.anchor {
                    Party::Anchor
                } else {
                    Party::Other
                };
                let out = slot::apply(&mut r.costream, user, party, &step, now, rules)?;
                *outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        let out = outcome
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_default();
        self.announce_costream(&updated, &out).await;
        Ok((updated, out))
    }

    /// The events of a step that changed the room's co-stream.
    async fn announce_costream(&self, room: &Room, out: &Outcome) {
        // A pending step's deadline, a grace or a check appeared, moved or went.
        self.set_room_deadline(room).await;
        if let Some(reason) = out.public {
            let kind = EventKind::Costream(room.costream.public(Some(reason)));
            if let Err(r) = self.publish(&room.id, kind).await {
                tracing::warn!(room = %room.id, reason = %r, "co-stream state not announced");
            }
        }
        if let Some((s, ended)) = &out.step {
            let step = s.step(&room.anchor, *ended);
            for user in [room.anchor.as_str(), s.guest.as_str()] {
                let kind = EventKind::CostreamStep(step.clone());
                if let Err(r) = self.send_to_user(user, &room.id, kind).await {
                    tracing::warn!(room = %room.id, user, reason = %r, "co-stream step not sent");
                }
            }
            if ended.is_some() {
                self.relay.forget(&room.id, s.id);
            }
        }
        if out.applicants {
            let kind = applicants_event(room);
            if let Err(r) = self.send_to_user(&room.anchor, &room.id, kind).await {
                tracing::warn!(room = %room.id, reason = %r, "co-stream applicants not sent");
            }
        }
    }

    /// Ends the room's co-stream because the room left 101 (`reason`
    /// `room_paused`, `room_ended`, ...): once across nodes, whoever tries,
    /// since only the compare-and-set that found a session announces.
    pub async fn stop_costream(&self, room: &Room, reason: &'static str) {
        if let Some(l) = &room.costream.link {
            let _ = self.link_end(&room.id, l.live.link, reason).await;
        }
        if room.costream.current.is_none() {
            return;
        }
        let anchor = room.anchor.clone();
        if let Err(r) = self
            .costream_step(&room.id, &anchor, Step::Stop(reason))
            .await
            && r.code != ErrorCode::NotFound
        {
            tracing::warn!(room = %room.id, reason = %r, "co-stream not stopped");
        }
    }

    /// The timer's part: ends the pending step once it expired, or the
    /// live session when a party's grace is over or a party's node died
    /// (absent from the user directory without a disconnect seen); else
    /// schedules the next presence check. Once across nodes: only the
    /// compare-and-set that still finds the cause announces.
    pub async fn fire_costream(&self, room: &Room, now: i64) {
        let Some(s) = room.costream.current.as_ref() else {
            return;
        };
        let live = s.phase == protocol::costream::CostreamPhase::Live;
        if !live && s.expires_at > now {
            return;
        }
        let step = if live {
            let present = |user: String| async move {
                // A store failure is not a departure.
                self.store
                    .user_nodes(&user, now)
                    .await
                    .map_or(true, |n| !n.is_empty())
            };
            Step::Check {
                anchor_present: present(room.anchor.clone()).await,
                guest_present: present(s.guest.clone()).await,
            }
        } else {
            Step::Expire(s.id)
        };
        let anchor = room.anchor.clone();
        if let Err(r) = self.costream_step(&room.id, &anchor, step).await {
            tracing::debug!(room = %room.id, reason = %r, "co-stream timer step skipped");
        }
    }

    /// A party's session left the room (or dropped): unless the user is
    /// still connected (another session here, or on another live node), the
    /// grace starts.
    pub async fn costream_left(&self, room: &Room, user: &str, sessions_here: usize) {
        let Some(s) = room.costream.current.as_ref() else {
            return;
        };
        if s.phase != protocol::costream::CostreamPhase::Live
            || (user != room.anchor && user != s.guest)
            || sessions_here > 1
        {
            return;
        }
        let me = &self.settings.node_id;
        let elsewhere = self
            .store
            .user_nodes(user, now_ms())
            .await
            .map(|n| n.iter().any(|n| n != me))
            .unwrap_or(false);
        if !elsewhere {
            let _ = self.costream_step(&room.id, user, Step::Gone).await;
        }
    }

    /// A party joined the room again: the same session goes on.
    pub async fn costream_back(&self, room: &Room, user: &str) {
        // The record here may not show the departure yet: the store decides.
        let party = room.costream.current.as_ref().is_some_and(|s| {
            s.phase == protocol::costream::CostreamPhase::Live
                && (user == room.anchor || user == s.guest)
        });
        if party {
            let _ = self.costream_step(&room.id, user, Step::Back).await;
        }
    }
}

/// The anchor's `costream_applicants` event for `room`.
pub fn applicants_event(room: &Room) -> EventKind {
    EventKind::CostreamApplicants(CostreamApplicants {
        applicants: room.costream.applicants.clone(),
    })
}
