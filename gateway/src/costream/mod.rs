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

/// When the room's pending co-stream step expires, for the room's timer.
pub fn next_deadline(room: &Room) -> Option<i64> {
    room.costream.next_deadline()
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
        if out.step.is_some() {
            // A pending step's deadline appeared, moved or went.
            self.set_room_deadline(room).await;
        }
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

    /// The timer's part: ends the pending step once it expired (once: only
    /// the compare-and-set that still finds it expired announces).
    pub async fn expire_costream(&self, room: &Room, now: i64) {
        let Some(s) = room.costream.current.as_ref() else {
            return;
        };
        if room.costream.next_deadline().is_none_or(|at| at > now) {
            return;
        }
        let id = s.id;
        let anchor = room.anchor.clone();
        if let Err(r) = self
            .costream_step(&room.id, &anchor, Step::Expire(id))
            .await
        {
            tracing::debug!(room = %room.id, reason = %r, "co-stream expiry skipped");
        }
    }
}

/// The anchor's `costream_applicants` event for `room`.
pub fn applicants_event(room: &Room) -> EventKind {
    EventKind::CostreamApplicants(CostreamApplicants {
        applicants: room.costream.applicants.clone(),
    })
}
