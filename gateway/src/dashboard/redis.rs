//! `DashboardStore` on Redis: the counters are one hash per room
//! (`<prefix>:{room}:dash:counters`, HINCRBY; the peak through a Lua
//! compare-and-raise) and the curve another (`<prefix>:{room}:dash:curve`,
//! point index → JSON, HSETNX so a point is written once), both under the
//! room's hash tag, so they live on the room's shard.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{AsyncCommands, Script};

use super::store::DashboardStore;
use crate::store::redis::unavailable;
use crate::store::{RedisStore, StoreError};

/// Raises a hash field to a value when it is below. KEYS: hash. ARGV:
/// field, value.
static RAISE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
"#,
    )
});

#[async_trait]
impl DashboardStore for RedisStore {
    async fn add_counters(&self, room: &str, deltas: &[(String, i64)]) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let key = self.key(room, "dash:counters");
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (name, d) in deltas {
            pipe.hincr(&key, name, *d).ignore();
        }
        let _: () = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn raise_counter(&self, room: &str, name: &str, value: u64) -> Result<(), StoreError> {
        let _: i64 = RAISE
            .key(self.key(room, "dash:counters"))
            .arg(name)
            .arg(value)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn remove_counters(&self, room: &str, names: &[String]) -> Result<(), StoreError> {
        if names.is_empty() {
            return Ok(());
        }
        let key = self.key(room, "dash:counters");
        let _: i64 = self.conn().hdel(key, names).await.map_err(unavailable)?;
        Ok(())
    }

    async fn counters(&self, room: &str) -> Result<BTreeMap<String, u64>, StoreError> {
        let key = self.key(room, "dash:counters");
        let all: BTreeMap<String, i64> = self.conn().hgetall(key).await.map_err(unavailable)?;
        Ok(all.into_iter().map(|(k, v)| (k, v.max(0) as u64)).collect())
    }

    async fn add_curve_point(
        &self,
        room: &str,
        index: u32,
        json: &str,
    ) -> Result<bool, StoreError> {
        let key = self.key(room, "dash:curve");
        self.conn()
            .hset_nx(key, index, json)
            .await
            .map_err(unavailable)
    }

    async fn curve(&self, room: &str) -> Result<Vec<(u32, String)>, StoreError> {
        let key = self.key(room, "dash:curve");
        let all: BTreeMap<u32, String> = self.conn().hgetall(key).await.map_err(unavailable)?;
        Ok(all.into_iter().collect())
    }
}
