//! Start reminders (开播提醒): signed-in viewers subscribe to a room's
//! start reminder by room id, without joining it (`ws.rs`); the count is in
//! the room's stats; when the room goes live (102 → 101) the merchant
//! backend gets a `live.started` webhook carrying the subscriber count, the
//! first page of subscribers and a cursor for the rest
//! (`GET /api/rooms/{id}/reminders`); a `push_reminder` admin action
//! (`http.rs`) is counted against a quota per app and UTC day
//! (`reminder_push_quota`) and emits `reminder.pushed`.

pub(crate) mod http;
pub mod memory;
pub mod redis;
pub mod store;
pub mod ws;

pub use store::ReminderStore;

use protocol::{ErrorCode, Rejection, RoomStatus};
use serde_json::{Value, json};

use crate::auth::{Action, authorize};
use crate::clock::now_ms;
use crate::room::Room;
use crate::service::Node;

/// Subscribers a webhook carries inline; the rest are paged by cursor.
pub const WEBHOOK_PAGE: usize = 100;
/// The largest page of `GET /api/rooms/{id}/reminders`.
pub const MAX_PAGE: usize = 1000;

/// A page of subscribers and the cursor of the next (none: that was all).
pub struct Page {
    /// User ids, in order.
    pub users: Vec<String>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

impl Node {
    /// The room as this node's hub holds it, or as stored.
    async fn reminder_room(&self, room: &str) -> Result<Room, Rejection> {
        match self.hubs.get(room) {
            Some(h) => Ok((*h.room()).clone()),
            None => self.store.room(room).await.map_err(|e| e.rejection()),
        }
    }

    /// Subscribes (`on`) or unsubscribes `user` to the room's start
    /// reminder. Subscribing needs a room that has not ended, been banned
    /// or expired. Returns the subscriber count afterwards.
    pub async fn set_reminder(&self, room: &str, user: &str, on: bool) -> Result<u64, Rejection> {
        let r = self.reminder_room(room).await?;
        authorize(r.role_of(Some(user)), Action::Remind)?;
        let store = &self.reminder_store;
        if on {
            if r.status.is_final() {
                return Err(Rejection::new(
                    ErrorCode::InvalidTransition,
                    "the room's live is over: nothing to remind of",
                ));
            }
            store.subscribe(room, user).await
        } else {
            store.unsubscribe(room, user).await
        }
        .map_err(|e| e.rejection())?;
        store
            .subscriber_count(room)
            .await
            .map_err(|e| e.rejection())
    }

    /// A page of the room's subscribers after `cursor`.
    pub async fn reminder_page(
        &self,
        room: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page, Rejection> {
        let users = self
            .reminder_store
            .subscribers(room, cursor, limit)
            .await
            .map_err(|e| e.rejection())?;
        let next_cursor = (users.len() == limit)
            .then(|| users.last().cloned())
            .flatten();
        Ok(Page { users, next_cursor })
    }

    /// What a reminder webhook carries: the count, the first page of
    /// subscribers and the cursor of the next.
    async fn subscribers_data(&self, room: &str) -> Result<Value, Rejection> {
        let count = self
            .reminder_store
            .subscriber_count(room)
            .await
            .map_err(|e| e.rejection())?;
        let page = self.reminder_page(room, None, WEBHOOK_PAGE).await?;
        Ok(json!({
            "subscriber_count": count,
            "subscribers": page.users,
            "next_cursor": page.next_cursor,
        }))
    }

    /// The `data` of a `live.started` webhook: the status change and the
    /// reminder subscribers (without them if the store failed to list them).
    pub(crate) async fn live_started_data(&self, room: &str, mut data: Value) -> Value {
        match self.subscribers_data(room).await {
            Ok(Value::Object(subs)) => {
                if let Value::Object(map) = &mut data {
                    map.extend(subs);
                }
            }
            Ok(_) => {}
            Err(r) => tracing::warn!(room, reason = %r, "reminder subscribers not listed"),
        }
        data
    }

    /// The `push_reminder` admin action: counted against `app`'s quota of
    /// the UTC day (`quota_exceeded` with the wait until the next day once
    /// used up), then a `reminder.pushed` webhook. Returns the answer body.
    pub async fn push_reminder(&self, room: &str, app: &str) -> Result<Value, Rejection> {
        self.limits.check_id("app", app)?;
        let r = self.reminder_room(room).await?;
        if r.status == RoomStatus::Banned {
            return Err(Rejection::new(ErrorCode::Forbidden, "this room is banned"));
        }
        let now = now_ms();
        let day = (now / 86_400_000) as u64;
        let quota = self.settings.reminder_push_quota;
        let Some(used) = self
            .reminder_store
            .take_push(app, day, quota)
            .await
            .map_err(|e| e.rejection())?
        else {
            let next_day = (day as i64 + 1) * 86_400_000;
            return Err(Rejection {
                code: ErrorCode::QuotaExceeded,
                message: format!(
                    "{quota} reminder push(es) per app per UTC day (reminder_push_quota)"
                ),
                retry_after_ms: Some((next_day - now).max(1) as u64),
            });
        };
        let mut data = self.subscribers_data(room).await?;
        data["app"] = json!(app);
        data["status"] = json!(r.status);
        data["pushes_today"] = json!(used);
        let subscriber_count = data["subscriber_count"].clone();
        let webhook_id = self
            .emit_webhook("reminder.pushed", Some(room), data)
            .await?;
        let left = (quota > 0).then(|| u64::from(quota).saturating_sub(used));
        Ok(json!({
            "room": room,
            "app": app,
            "subscriber_count": subscriber_count,
            "pushes_today": used,
            "pushes_left": left,
            "webhook_id": webhook_id,
        }))
    }
}
