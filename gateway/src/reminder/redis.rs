//! `ReminderStore` on Redis: a room's subscribers are a sorted set of
//! equal scores under the room's hash tag (`<prefix>:{room}:reminders`),
//! paged with `ZRANGEBYLEX`; push counts are one key per app and UTC day
//! (`<prefix>:{reminder-pushes}:<app>:<day>`, expiring after two days),
//! counted by one script so two nodes never both take the last push.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{AsyncCommands, Script};

use super::store::ReminderStore;
use crate::store::redis::unavailable;
use crate::store::{RedisStore, StoreError};

/// KEYS: the day's count. ARGV: quota (0: none). Returns the count with
/// this push, or -1 (nothing counted) past the quota.
static TAKE_PUSH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local q = tonumber(ARGV[1])
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if q > 0 and n >= q then return -1 end
n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 172800)
return n
"#,
    )
});

#[async_trait]
impl ReminderStore for RedisStore {
    async fn subscribe(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .zadd(self.key(room, "reminders"), user, 0)
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }

    async fn unsubscribe(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .zrem(self.key(room, "reminders"), user)
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }

    async fn subscriber_count(&self, room: &str) -> Result<u64, StoreError> {
        self.conn()
            .zcard(self.key(room, "reminders"))
            .await
            .map_err(unavailable)
    }

    async fn subscribers(
        &self,
        room: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let min = after.map_or_else(|| "-".to_string(), |a| format!("({a}"));
        self.conn()
            .zrangebylex_limit(self.key(room, "reminders"), min, "+", 0, limit as isize)
            .await
            .map_err(unavailable)
    }

    async fn take_push(&self, app: &str, day: u64, quota: u32) -> Result<Option<u64>, StoreError> {
        let key = format!("{}:{{reminder-pushes}}:{app}:{day}", self.prefix());
        let n: i64 = TAKE_PUSH
            .key(key)
            .arg(quota)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok((n >= 0).then_some(n as u64))
    }
}
