//! `PkStore`: each room's history of ended PKs, newest first, capped at
//! [`HISTORY_CAP`], in the store so every node answers the same. The
//! running PK itself is in the room records (the link), not here. Both
//! stores implement it (`memory.rs`, `redis.rs`).

use async_trait::async_trait;

use crate::store::StoreError;

/// Ended PKs kept per room.
pub const HISTORY_CAP: usize = 50;

/// The rooms' PK histories.
#[async_trait]
pub trait PkStore: Send + Sync + 'static {
    /// Puts an ended PK (its `pk` event, JSON) first in the room's
    /// history, keeping the newest [`HISTORY_CAP`].
    async fn push_pk(&self, room: &str, json: &str) -> Result<(), StoreError>;
    /// The room's history, newest first.
    async fn pk_history(&self, room: &str) -> Result<Vec<String>, StoreError>;
}
