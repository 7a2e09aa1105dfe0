//! The end of a lottery, run by the holder of the room's timer lease:
//! draw once at window end (claim by compare-and-set, commit, publish the
//! commitment, draw, store the record, publish the winners, tell each
//! winner), or abandon it with a signed abnormal record when the live ended
//! first.

use lottery::{Announcement, Commitment};
use protocol::{ErrorCode, EventKind, LotteryCommitment, LotteryEvent, LotteryState, Rejection};

use super::beacon::RETRY_MS;
use super::{
    BEACON_UNAVAILABLE, DRAW_RECLAIM_MS, LIVE_ENDED, SlotState, internal, not_found, slot_mut,
    winners_of,
};
use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// Why a lottery whose announcement was never stored is abnormal.
pub const NOT_ANNOUNCED: &str = "not_announced";

impl Node {
    /// The live ended: every lottery whose window is still open is
    /// abandoned (signed abnormal record, nobody wins).
    pub async fn abandon_open_lotteries(&self, room: &Room) {
        let ended = room.ended_at.unwrap_or_else(now_ms).max(0) as u64;
        for slot in &room.lotteries {
            if slot.state == SlotState::Running && slot.window_end_ms.is_some_and(|e| ended < e) {
                self.abandon_lottery(&room.id, &slot.id).await;
            }
        }
    }

    /// Timers: draws the lotteries of `room` whose window closed and
    /// abandons the ones the end of the live cut short. Called by the
    /// holder of the room's timer lease; each step is a CAS on the state.
    pub async fn fire_lotteries(&self, room: &Room, now: i64) {
        let live_over = room.status.is_final();
        for slot in &room.lotteries {
            let end = slot.window_end_ms.unwrap_or(0) as i64;
            let ended_first = live_over && room.ended_at.is_none_or(|t| t < end);
            match slot.state {
                SlotState::Running if ended_first => self.abandon_lottery(&room.id, &slot.id).await,
                SlotState::Running if now >= end => {
                    self.draw_lottery(&room.id, &slot.id, now).await
                }
                SlotState::Drawing
                    if slot
                        .drawing_since
                        .is_some_and(|s| s + DRAW_RECLAIM_MS <= now) =>
                {
                    self.draw_lottery(&room.id, &slot.id, now).await
                }
                SlotState::Beacon if slot.beacon_try_ms.is_some_and(|t| t <= now) => {
                    self.draw_lottery(&room.id, &slot.id, now).await
                }
                _ => {}
            }
        }
        self.lotteries.prune(now.max(0) as u64);
    }

    pub(super) async fn announcement(
        &self,
        room: &str,
        id: &str,
    ) -> Result<Announcement, Rejection> {
        let json = self
            .lottery_store
            .lottery_doc(room, id, "announcement")
            .await
            .map_err(|e| e.rejection())?
            .ok_or_else(not_found)?;
        serde_json::from_str(&json).map_err(|e| internal("announcement", e))
    }

    async fn abandon_lottery(&self, room: &str, id: &str) {
        let claimed = self
            .update_room(room, &|r| {
                let slot = slot_mut(r, id)?;
                if slot.state != SlotState::Running {
                    return Err(Rejection::new(ErrorCode::InvalidTransition, "not running"));
                }
                slot.state = SlotState::Abnormal;
                Ok(())
            })
            .await;
        let Ok(updated) = claimed else {
            return;
        };
        let made = match self.announcement(room, id).await {
            Ok(a) => self.store_abnormal_record(room, id, &a, LIVE_ENDED).await,
            Err(r) => {
                tracing::error!(room, lottery = id, reason = %r, "abnormal record not made");
                false
            }
        };
        if !made {
            return;
        }
        self.announce_abnormal(&updated, id, LIVE_ENDED).await;
        tracing::info!(room, lottery = id, "lottery abnormal");
    }

    /// After a lottery became abnormal in `updated`: the room's next timer,
    /// and the `abnormal` event with its reason.
    async fn announce_abnormal(&self, updated: &Room, id: &str, reason: &str) {
        self.set_room_deadline(updated).await;
        let mut event = LotteryEvent::new(id, LotteryState::Abnormal);
        event.reason = Some(reason.to_string());
        if let Err(r) = self
            .publish(&updated.id, EventKind::Lottery(Box::new(event)))
            .await
        {
            tracing::warn!(room = %updated.id, lottery = id, reason = %r, "abnormal lottery not published");
        }
    }

    async fn draw_lottery(&self, room: &str, id: &str, now: i64) {
        // The claim: only one node moves Running (after the window) or a
        // stale Drawing to Drawing(now).
        let claimed = self
            .update_room(room, &|r| {
                let slot = slot_mut(r, id)?;
                let end = slot.window_end_ms.unwrap_or(u64::MAX);
                let ok = match slot.state {
                    SlotState::Running => (now.max(0) as u64) >= end,
                    SlotState::Drawing => slot
                        .drawing_since
                        .is_some_and(|s| s + DRAW_RECLAIM_MS <= now),
                    SlotState::Beacon => slot.beacon_try_ms.is_some_and(|t| t <= now),
                    _ => false,
                };
                if !ok {
                    return Err(Rejection::new(ErrorCode::InvalidTransition, "not due"));
                }
                slot.state = SlotState::Drawing;
                slot.drawing_since = Some(now);
                slot.beacon_try_ms = None;
                Ok(())
            })
            .await;
        let Ok(updated) = claimed else {
            return;
        };
        self.set_room_deadline(&updated).await;
        match self.draw_claimed(room, id, now).await {
            Ok(()) => tracing::info!(room, lottery = id, "lottery drawn"),
            Err(r) => tracing::error!(room, lottery = id, reason = %r, "lottery draw failed"),
        }
    }

    async fn draw_claimed(&self, room: &str, id: &str, now: i64) -> Result<(), Rejection> {
        let announcement = match self.announcement(room, id).await {
            Ok(a) => a,
            // Never announced (the start failed after its state change):
            // nobody saw a window, so nobody can win; stop retrying.
            Err(r) if r.code == ErrorCode::NotFound => {
                self.give_up_unannounced(room, id).await;
                return Err(r);
            }
            Err(r) => return Err(r),
        };
        let ids = self
            .lottery_store
            .participants(room, id)
            .await
            .map_err(|e| e.rejection())?;
        let commitment = Commitment::from_ids(ids).map_err(|e| internal("commit", e))?;
        let published = LotteryCommitment {
            root: hex::encode(commitment.root()),
            count: commitment.count(),
            announcement_hash: hex::encode(announcement.hash()),
        };
        // The commitment goes out before the randomness exists, once: a
        // takeover of a stale claim finds it in the log already.
        let mut event = LotteryEvent::new(id, LotteryState::Committed);
        event.commitment = Some(published.clone());
        self.publish_once(
            room,
            EventKind::Lottery(Box::new(event)),
            &format!("lottery:{id}:committed"),
        )
        .await?;
        // With a beacon: the committed round, once its time has come and an
        // endpoint served it (checked); until then the draw waits in
        // `Beacon`, a timer pass per attempt, and past the deadline the
        // lottery is abnormal. Never drawn on anything else.
        let round = match &announcement.definition.beacon {
            None => None,
            Some(b) => {
                let at = b.round_time_ms() as i64;
                if now < at {
                    return self.await_beacon(room, id, at, now).await;
                }
                let fetched = match &self.lotteries.beacon {
                    Some(client) => client.fetch(b).await,
                    None => Err("no beacon endpoints configured".to_string()),
                };
                match fetched {
                    Ok(r) => Some(r),
                    Err(why) => {
                        let deadline = self.lotteries.beacon.as_ref().map_or(0, |c| c.deadline_ms);
                        let after = now_ms();
                        if after < at + deadline as i64 {
                            tracing::warn!(room, lottery = id, round = b.round, error = %why, "beacon round not fetched yet");
                            return self.await_beacon(room, id, after + RETRY_MS, now).await;
                        }
                        tracing::error!(room, lottery = id, round = b.round, error = %why, "beacon unavailable");
                        self.beacon_unavailable(room, id, &announcement).await;
                        return Ok(());
                    }
                }
            }
        };
        let record = lottery::draw_with_beacon(
            &announcement,
            &commitment,
            round.as_ref(),
            &self.lotteries.key,
        )
        .map_err(|e| internal("draw", e))?;
        self.lottery_store
            .put_lottery_doc(room, id, "record", &record.to_canonical())
            .await
            .map_err(|e| e.rejection())?;
        let winners = winners_of(&record);
        let mut event = LotteryEvent::new(id, LotteryState::Drawn);
        event.commitment = Some(published.clone());
        event.winners = winners.clone();
        let announced = self
            .publish_once(
                room,
                EventKind::Lottery(Box::new(event)),
                &format!("lottery:{id}:drawn"),
            )
            .await?;
        self.update_room(room, &|r| {
            let slot = slot_mut(r, id)?;
            if slot.state != SlotState::Drawing {
                return Err(Rejection::new(ErrorCode::InvalidTransition, "not drawing"));
            }
            slot.state = SlotState::Drawn;
            slot.drawing_since = None;
            Ok(())
        })
        .await
        .map_err(|e| e.rejection())?;
        if announced.is_none() {
            // The node that announced the draw told the winners.
            return Ok(());
        }
        let data = serde_json::json!({
            "lottery": id,
            "winners": winners,
            "participants": published.count,
            "commitment_root": published.root,
        });
        self.emit_webhook_logged("lottery.drawn", Some(room), data)
            .await;
        // Each winner also hears it personally (their sessions on any node),
        // with only their own entry and code.
        for w in winners {
            let user = w.user.clone();
            let mut personal = LotteryEvent::new(id, LotteryState::Drawn);
            personal.commitment = Some(published.clone());
            personal.winners = vec![w];
            let kind = EventKind::Lottery(Box::new(personal));
            if let Err(r) = self.send_to_user(&user, room, kind).await {
                tracing::warn!(room, lottery = id, user, reason = %r, "winner not told");
            }
        }
        Ok(())
    }

    /// Committed, its beacon round not there yet: `Drawing` → `Beacon`,
    /// fetched again from `at` on (the room's timer deadline).
    async fn await_beacon(
        &self,
        room: &str,
        id: &str,
        at: i64,
        claimed: i64,
    ) -> Result<(), Rejection> {
        let updated = self
            .update_room(room, &|r| {
                let slot = slot_mut(r, id)?;
                if slot.state != SlotState::Drawing || slot.drawing_since != Some(claimed) {
                    return Err(Rejection::new(ErrorCode::InvalidTransition, "not our draw"));
                }
                slot.state = SlotState::Beacon;
                slot.drawing_since = None;
                slot.beacon_try_ms = Some(at);
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        self.set_room_deadline(&updated).await;
        Ok(())
    }

    /// The beacon round could not be fetched by the deadline: `Drawing` →
    /// `Abnormal` with the signed record (reason `beacon_unavailable`).
    async fn beacon_unavailable(&self, room: &str, id: &str, announcement: &Announcement) {
        let Some(updated) = self.drawing_to_abnormal(room, id).await else {
            return;
        };
        // Announced even when the record could not be signed.
        self.store_abnormal_record(room, id, announcement, BEACON_UNAVAILABLE)
            .await;
        self.announce_abnormal(&updated, id, BEACON_UNAVAILABLE)
            .await;
    }

    /// `Drawing` → `Abnormal` in the room record; the updated record, or
    /// `None` when the lottery was not drawing (another node moved it).
    async fn drawing_to_abnormal(&self, room: &str, id: &str) -> Option<Room> {
        self.update_room(room, &|r| {
            let slot = slot_mut(r, id)?;
            if slot.state != SlotState::Drawing {
                return Err(Rejection::new(ErrorCode::InvalidTransition, "not drawing"));
            }
            slot.state = SlotState::Abnormal;
            slot.drawing_since = None;
            Ok(())
        })
        .await
        .ok()
    }

    /// Signs and stores the abnormal record of `announcement` with
    /// `reason`; false when it could not be signed.
    async fn store_abnormal_record(
        &self,
        room: &str,
        id: &str,
        announcement: &Announcement,
        reason: &str,
    ) -> bool {
        match lottery::abandon(announcement, &self.lotteries.key, reason) {
            Ok(record) => {
                if let Err(e) = self
                    .lottery_store
                    .put_lottery_doc(room, id, "record", &record.to_canonical())
                    .await
                {
                    tracing::error!(room, lottery = id, error = %e, "abnormal record not stored");
                }
                true
            }
            Err(e) => {
                tracing::error!(room, lottery = id, error = %e, "abnormal record not made");
                false
            }
        }
    }

    /// A lottery whose start stored its state but not its announcement:
    /// abnormal (reason `not_announced`), with no record, never retried.
    async fn give_up_unannounced(&self, room: &str, id: &str) {
        let Some(updated) = self.drawing_to_abnormal(room, id).await else {
            return;
        };
        self.announce_abnormal(&updated, id, NOT_ANNOUNCED).await;
        tracing::error!(room, lottery = id, "lottery never announced; abnormal");
    }
}
