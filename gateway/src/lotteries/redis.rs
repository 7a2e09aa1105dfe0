//! `LotteryStore` on Redis: each document is a string and each participant
//! set a set, under the room's hash tag
//! (`<prefix>:{room}:lottery:<id>:<what>`), so they live on the room's
//! shard.

use async_trait::async_trait;
use redis::AsyncCommands;

use super::store::{LotteryStore, RECORD};
use crate::store::redis::unavailable;
use crate::store::{RedisStore, StoreError};

#[async_trait]
impl LotteryStore for RedisStore {
    async fn put_lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
        json: &str,
    ) -> Result<(), StoreError> {
        let key = self.key(room, &format!("lottery:{lottery}:{what}"));
        if what == RECORD {
            // Published once: a later write keeps the first (SET NX).
            let _: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(json)
                .arg("NX")
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
        } else {
            let _: () = self.conn().set(key, json).await.map_err(unavailable)?;
        }
        Ok(())
    }

    async fn lottery_doc(
        &self,
        room: &str,
        lottery: &str,
        what: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = self.key(room, &format!("lottery:{lottery}:{what}"));
        self.conn().get(key).await.map_err(unavailable)
    }

    async fn add_participants(
        &self,
        room: &str,
        lottery: &str,
        users: &[String],
    ) -> Result<(), StoreError> {
        if users.is_empty() {
            return Ok(());
        }
        let key = self.key(room, &format!("lottery:{lottery}:participants"));
        let _: i64 = self.conn().sadd(key, users).await.map_err(unavailable)?;
        Ok(())
    }

    async fn participants(&self, room: &str, lottery: &str) -> Result<Vec<String>, StoreError> {
        let key = self.key(room, &format!("lottery:{lottery}:participants"));
        self.conn().smembers(key).await.map_err(unavailable)
    }

    async fn participant_count(&self, room: &str, lottery: &str) -> Result<u64, StoreError> {
        let key = self.key(room, &format!("lottery:{lottery}:participants"));
        self.conn().scard(key).await.map_err(unavailable)
    }
}
