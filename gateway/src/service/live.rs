//! Lifecycle transitions through the request path, shared by anchors over
//! WebSocket, admins over HTTP and the node's timers: apply atomically in
//! the store, then publish the status event. Also the room's next timer
//! (its lifecycle deadline or a lottery's draw time).

use protocol::{ErrorCode, EventKind, Rejection, RoomStatus, StatusChanged};

use std::sync::Arc;

use super::Node;
use crate::clock::now_ms;
use crate::hub::HubHandle;
use crate::room::{Room, Timing, Transition, lifecycle};
use crate::store::LiveClaim;

/// The room's next timer: the lifecycle deadline or a lottery's draw time.
/// Pauses between retries of an anchor departure the store failed (about
/// a minute in all).
const ANCHOR_RETRY_MS: [u64; 8] = [250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

fn room_deadline(room: &Room, timing: Timing, settings: &crate::config::Settings) -> Option<i64> {
    let life = lifecycle::next_deadline(room, timing).map(|(at, _)| at);
    crate::lotteries::next_deadline(room)
        .into_iter()
        .chain(life)
        .chain(room.commerce.next_deadline())
        .chain(crate::notice::next_deadline(room))
        .chain(crate::costream::next_deadline(room, settings))
        .min()
}

impl Node {
    /// Applies a transition and announces the new status to the room.
    pub async fn transition(&self, room: &str, t: Transition) -> Result<Room, Rejection> {
        let now = now_ms();
        let timing = self.timing;
        let day = (now / 86_400_000) as u64;
        let start = t == Transition::Live(protocol::LiveAction::Start);
        let claimed = start && self.claim_live(room, day).await?;
        let updated = self
            .update_room(room, &move |r| lifecycle::apply(r, t, now, timing))
            .await
            .map_err(|e| e.rejection());
        let updated = match updated {
            Ok(u) => u,
            Err(r) => {
                if claimed {
                    self.release_live(room, day, true).await;
                }
                return Err(r);
            }
        };
        // The start expired the room (107): its claim is undone; a live
        // that is over leaves the live set.
        let start_failed = claimed && updated.status != RoomStatus::Live;
        if start_failed || updated.status.is_final() {
            self.release_live(room, day, start_failed).await;
        }
        let reason = if updated.status == RoomStatus::Expired {
            "expired"
        } else {
            t.reason()
        };
        let kind = EventKind::Status(StatusChanged {
            status: updated.status,
            reason: Some(reason.to_string()),
        });
        // Queued first, so a node dying now loses the least.
        self.emit_status_webhook(&updated, t, reason).await;
        self.set_room_deadline(&updated).await;
        self.publish(room, kind).await?;
        if updated.status.is_final() {
            self.abandon_open_lotteries(&updated).await;
        }
        if updated.status != RoomStatus::Live {
            self.stop_costream(&updated, crate::costream::stop_reason(updated.status))
                .await;
        }
        tracing::info!(
            room,
            status = updated.status.code(),
            reason = t.reason(),
            "room status"
        );
        if updated.status == RoomStatus::Expired {
            return Err(Rejection::new(
                ErrorCode::RoomExpired,
                "the planned end has passed; the room can no longer start",
            ));
        }
        Ok(updated)
    }

    /// The status change's webhook (`live.started`, `live.paused`, ...),
    /// queued by the one node whose store update made the transition.
    async fn emit_status_webhook(&self, room: &Room, t: Transition, reason: &str) {
        let started = t == Transition::Live(protocol::LiveAction::Start);
        let kind = match room.status {
            RoomStatus::Live if started => "live.started",
            RoomStatus::Live => "live.resumed",
            RoomStatus::Paused => "live.paused",
            RoomStatus::Abnormal => "live.abnormal",
            RoomStatus::Ended => "live.ended",
            RoomStatus::Banned => "live.banned",
            RoomStatus::Expired => "live.expired",
            RoomStatus::NotStarted => return,
        };
        let mut data = serde_json::json!({
            "status": room.status,
            "reason": reason,
            "version": room.version,
        });
        if kind == "live.started" {
            data = self.live_started_data(&room.id, data).await;
        }
        self.emit_webhook_logged(kind, Some(&room.id), data).await;
    }

    /// Counts a starting room against the deployment's live limits; whether
    /// it was counted now (to undo if the start fails).
    async fn claim_live(&self, room: &str, day: u64) -> Result<bool, Rejection> {
        let s = &self.settings;
        let claim = self
            .store
            .claim_live(room, day, s.max_live_rooms, s.max_lives_per_day)
            .await
            .map_err(|e| e.rejection())?;
        match claim {
            LiveClaim::Claimed => Ok(true),
            LiveClaim::AlreadyLive => Ok(false),
            LiveClaim::TooManyLive => Err(Rejection::new(
                ErrorCode::LiveLimit,
                format!("{} rooms are live (max_live_rooms)", s.max_live_rooms),
            )),
            LiveClaim::TooManyToday => Err(Rejection::new(
                ErrorCode::LiveLimit,
                format!(
                    "{} lives were started today, UTC (max_lives_per_day)",
                    s.max_lives_per_day
                ),
            )),
        }
    }

    async fn release_live(&self, room: &str, day: u64, started_today: bool) {
        if let Err(e) = self.store.release_live(room, day, started_today).await {
            tracing::warn!(room, error = %e, "live count not released");
        }
    }

    /// Records the room's next timer (lifecycle, lottery draw, notice
    /// expiry, dashboard curve point).
    pub async fn set_room_deadline(&self, room: &Room) {
        // A live or paused room is looked at every presence TTL, so an
        // anchor whose node died is noticed (`Store::anchor_presence_lost`).
        let presence_check = matches!(room.status, RoomStatus::Live | RoomStatus::Paused)
            .then(|| now_ms() + self.settings.presence_ttl_ms());
        let curve_every = self.settings.dashboard_curve_ms as i64;
        let curve = crate::dashboard::next_point_at(room, now_ms(), curve_every);
        let at = room_deadline(room, self.timing, &self.settings)
            .into_iter()
            .chain(presence_check)
            .chain(curve)
            .min();
        if let Err(e) = self.store.set_deadline(&room.id, at).await {
            tracing::warn!(room = %room.id, error = %e, "deadline not recorded");
        }
    }

    /// The anchor's connection to `room` went away: when no node holds an
    /// anchor session any more, a live or paused room becomes abnormal. A
    /// store that fails on the way (a Redis blip) is retried in the
    /// background with backoff for about a minute, so a blip does not keep
    /// the room from going abnormal.
    pub async fn anchor_left(self: &Arc<Self>, room: &str, hub: &HubHandle) {
        let reported = self.report_presence(room, hub).await;
        if self.is_shutting_down() {
            // Its anchors reconnect to another node.
            return;
        }
        if reported && self.check_anchor_lost(room).await {
            return;
        }
        let node = self.clone();
        let room = room.to_string();
        tokio::spawn(async move {
            for delay_ms in ANCHOR_RETRY_MS {
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                if node.is_shutting_down() {
                    return;
                }
                if node.report_local_presence(&room).await && node.check_anchor_lost(&room).await {
                    return;
                }
            }
            tracing::error!(room, "anchor departure not settled: the store kept failing");
        });
    }

    /// Moves the room to abnormal when no anchor is left on any node;
    /// false when the store failed and the check must be retried.
    async fn check_anchor_lost(&self, room: &str) -> bool {
        match self.store.presence(room, now_ms()).await {
            Ok(p) if p.anchors == 0 => match self.transition(room, Transition::AnchorLost).await {
                Err(r) if r.code == ErrorCode::Unavailable => {
                    tracing::warn!(room, "anchor left; abnormal transition failed, retrying");
                    false
                }
                // Done, or not live or paused: nothing to do, and that is fine.
                _ => true,
            },
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(room, error = %e, "anchor presence unknown, retrying");
                false
            }
        }
    }

    /// Writes this node's presence in `room` as its hubs count it now (none
    /// when the hub retired).
    async fn report_local_presence(&self, room: &str) -> bool {
        let presence = self
            .hubs
            .get(room)
            .map(|h| h.presence())
            .unwrap_or_default();
        self.write_presence(room, presence).await
    }

    /// Writes this node's presence in `room` now; whether it was stored.
    pub async fn report_presence(&self, room: &str, hub: &HubHandle) -> bool {
        self.write_presence(room, hub.presence()).await
    }

    async fn write_presence(&self, room: &str, presence: crate::store::Presence) -> bool {
        let expires = now_ms() + self.settings.presence_ttl_ms();
        match self
            .store
            .set_presence(room, &self.settings.node_id, presence, expires)
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(room, error = %e, "presence not reported");
                false
            }
        }
    }
}
