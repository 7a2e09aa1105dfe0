//! `PkStore` on Redis: a list per room (`<prefix>:{room}:pk:history`,
//! LPUSH then LTRIM in one MULTI), under the room's hash tag.

use async_trait::async_trait;
use redis::AsyncCommands;

use super::store::{HISTORY_CAP, PkStore};
use crate::store::redis::unavailable;
use crate::store::{RedisStore, StoreError};

#[async_trait]
impl PkStore for RedisStore {
    async fn push_pk(&self, room: &str, json: &str) -> Result<(), StoreError> {
        let key = self.key(room, "pk:history");
        let _: () = redis::pipe()
            .atomic()
            .lpush(&key, json)
            .ignore()
            .ltrim(&key, 0, HISTORY_CAP as isize - 1)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn pk_history(&self, room: &str) -> Result<Vec<String>, StoreError> {
        self.conn()
            .lrange(self.key(room, "pk:history"), 0, HISTORY_CAP as isize - 1)
            .await
            .map_err(unavailable)
    }
}
