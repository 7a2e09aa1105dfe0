//! `ReminderStore`: each room's start-reminder subscribers (a set, paged in
//! user order) and the deployment's reminder-push quota per app and UTC
//! day. Both stores implement it (`memory.rs`, `redis.rs`).

use async_trait::async_trait;

use crate::store::StoreError;

/// Start-reminder subscriptions and push quotas.
#[async_trait]
pub trait ReminderStore: Send + Sync + 'static {
    /// Adds `user` to the room's subscribers; whether they were not yet.
    async fn subscribe(&self, room: &str, user: &str) -> Result<bool, StoreError>;
    /// Removes `user`; whether they were subscribed.
    async fn unsubscribe(&self, room: &str, user: &str) -> Result<bool, StoreError>;
    /// How many users are subscribed to the room.
    async fn subscriber_count(&self, room: &str) -> Result<u64, StoreError>;
    /// Subscribers in user-id order after `after` (exclusive), at most `limit`.
    async fn subscribers(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Counts one push of `app` on UTC day `day` against `quota` (0:
    /// unlimited): the pushes of that day including this one, or `None`
    /// (nothing counted) when the quota is used up.
    async fn take_push(&self, app: &str, day: u64, quota: u32) -> Result<Option<u64>, StoreError>;
}
