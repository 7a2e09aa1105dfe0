//! Notices (公告): the anchor or sub-anchor (over WebSocket) or an admin
//! (over the API) pushes a short text that every viewer shows for
//! `notice_show_ms`; it can be withdrawn, and it expires once. The notice
//! rides in the room record (`Room::notices`, [`NoticeState`]), so every
//! hub holds it for join snapshots, and each change is the store's
//! compare-and-set on the record ([`rule::may_push`] runs inside it, so
//! two nodes cannot both push), followed by a high-lane `notice` event.
//! Expiry is a room timer: the room's deadline includes the notice's
//! `until`, and the timer lease holder clears it with a compare-and-set
//! that only one node can win, which alone publishes `expired`.
//!
//! No store trait of its own: everything that must be atomic is in the
//! room record.

pub mod http;
pub mod rule;
pub mod ws;

use protocol::{
    ErrorCode, EventKind, Notice, NoticeAction, NoticeEvent, NoticeShown, Rejection, RoomEvent,
    RoomStatus,
};

pub use rule::{NoticeRules, NoticeState};

use crate::clock::now_ms;
use crate::moderation::WordPolicy;
use crate::room::Room;
use crate::service::Node;

/// The notice a snapshot taken at `now` shows, with its time left.
pub fn shown(room: &Room, now: i64) -> Option<Box<NoticeShown>> {
    let n = room.notices.current.as_ref()?;
    (n.until > now).then(|| {
        Box::new(NoticeShown {
            notice: n.clone(),
            remaining_ms: (n.until - now) as u64,
        })
    })
}

/// When the room's notice ends, for the room's timer.
pub fn next_deadline(room: &Room) -> Option<i64> {
    room.notices.current.as_ref().map(|n| n.until)
}

impl Node {
    /// The notice rules from the settings.
    pub fn notice_rules(&self) -> NoticeRules {
        let s = &self.settings;
        NoticeRules {
            show_ms: s.notice_show_ms as i64,
            short_interval_ms: s.notice_short_interval_ms as i64,
            spacing_wait_ms: s.notice_spacing_wait_ms as i64,
        }
    }

    /// Pushes a notice into a live room: text limits, the room's word
    /// filter (always blocking), then the timing rules and the push in one
    /// compare-and-set; publishes `pushed` and returns its event.
    pub async fn push_notice(&self, room: &Room, text: &str) -> Result<RoomEvent, Rejection> {
        protocol::notice::check_notice_text(text)?;
        self.words
            .check(
                self.moderation_store.as_ref(),
                &room.id,
                (WordPolicy::Block, room.moderation.filter),
                text,
            )
            .await
            .map_err(|r| Rejection::new(r.code, r.message.replace("comment", "notice")))?;
        let now = now_ms();
        let rules = self.notice_rules();
        let body = text.to_string();
        let updated = self
            .update_room(&room.id, &move |r| {
                if r.status != RoomStatus::Live {
                    return Err(Rejection::new(
                        ErrorCode::RoomNotLive,
                        format!("room status is {}, notices need 101", r.status.code()),
                    ));
                }
                rule::may_push(&r.notices, now, rules)?;
                rule::push(&mut r.notices, &body, now, rules);
                Ok(())
            })
            .await
            .map_err(|e| e.rejection())?;
        self.set_room_deadline(&updated).await;
        let notice = updated
            .notices
            .current
            .clone()
            .ok_or_else(|| Rejection::new(ErrorCode::Internal, "pushed notice missing"))?;
        self.publish(&room.id, notice_event(NoticeAction::Pushed, notice))
            .await
    }

    /// Withdraws the notice showing now (`id`: only that one); publishes
    /// `withdrawn`. `not_found` when none (or another) is showing.
    pub async fn withdraw_notice(
        &self,
        room: &str,
        id: Option<u64>,
    ) -> Result<RoomEvent, Rejection> {
        let now = now_ms();
        // What the winning attempt of the compare-and-set cleared.
        let taken = std::sync::Mutex::new(None);
        self.update_room(room, &|r| {
            let showing = r.notices.current.clone();
            match showing {
                Some(n) if n.until > now && id.is_none_or(|id| id == n.id) => {
                    r.notices.current = None;
                    *taken.lock().unwrap_or_else(|p| p.into_inner()) = Some(n);
                    Ok(())
                }
                _ => Err(Rejection::new(
                    ErrorCode::NotFound,
                    "no such notice is showing",
                )),
            }
        })
        .await
        .map_err(|e| e.rejection())?;
        let notice = taken
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .ok_or_else(|| Rejection::new(ErrorCode::Internal, "withdrawn notice missing"))?;
        self.publish(room, notice_event(NoticeAction::Withdrawn, notice))
            .await
    }

    /// The timer's part: clears the room's notice once its time is over,
    /// with a compare-and-set on its id, and publishes `expired` (only the
    /// node whose change won does).
    pub async fn expire_notice(&self, room: &Room, now: i64) {
        let Some(n) = room.notices.current.clone().filter(|n| n.until <= now) else {
            return;
        };
        let id = n.id;
        let cleared = self
            .update_room(&room.id, &move |r| match &r.notices.current {
                Some(c) if c.id == id => {
                    r.notices.current = None;
                    Ok(())
                }
                _ => Err(Rejection::new(ErrorCode::NotFound, "notice already gone")),
            })
            .await;
        if cleared.is_ok()
            && let Err(r) = self
                .publish(&room.id, notice_event(NoticeAction::Expired, n))
                .await
        {
            tracing::warn!(room = %room.id, reason = %r, "notice expiry not announced");
        }
    }
}

fn notice_event(action: NoticeAction, notice: Notice) -> EventKind {
    EventKind::Notice(NoticeEvent { action, notice })
}
