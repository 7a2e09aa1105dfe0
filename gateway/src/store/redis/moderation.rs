//! The moderation half of the Redis store: deleted comments (a sorted set of
//! offsets under the room's hash tag, consulted by the snapshot and replay
//! scripts), mutes (a hash), word lists with a version counter, slow-mode
//! claims (`SET NX PX`) and capped audit lists. Scripts touch one hash tag.

use std::sync::LazyLock;

use protocol::WordEntry;
use redis::{AsyncCommands, Script};

use super::{RedisStore, corrupt, unavailable};
use crate::moderation::{AuditEntry, MuteEntry};
use crate::store::{StoreError, too_many_words};

/// Marks one comment deleted. KEYS: log, recent, deleted. ARGV: offset.
/// Returns 1 when a comment was there, else 0.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local off = ARGV[1]
local found = false
local e = redis.call('XRANGE', KEYS[1], off .. '-1', off .. '-1')
if #e == 1 and string.find(e[1][2][4], '{"type":"comment"', 1, true) == 1 then found = true end
if not found then
  for _, r in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
    if string.match(r, '^(%d+)') == off then found = true end
  end
end
if not found then return 0 end
redis.call('ZADD', KEYS[3], off, off)
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
local last = redis.call('LINDEX', KEYS[2], -1)
local oldest = math.huge
if #first == 1 then oldest = tonumber(string.match(first[1][1], '^(%d+)')) end
if last then oldest = math.min(oldest, tonumber(string.match(last, '^(%d+)'))) end
if oldest ~= math.huge then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. oldest) end
return 1
"#,
    )
});

/// Marks every comment of a user deleted. KEYS: log, recent, deleted.
/// ARGV: user. Returns the offsets newly marked.
static PURGE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local seen, out = {}, {}
local function consider(off, kind)
  if seen[off] or string.find(kind, '{"type":"comment"', 1, true) ~= 1 then return end
  seen[off] = true
  local ok, ev = pcall(cjson.decode, kind)
  if ok and ev.user == ARGV[1] and not redis.call('ZSCORE', KEYS[3], off) then
    out[#out + 1] = tonumber(off)
  end
end
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  consider(string.match(e[1], '^(%d+)'), e[2][4])
end
for _, r in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local off, kind = string.match(r, '^(%d+)|[^|]*|(.*)$')
  if off then consider(off, kind) end
end
table.sort(out)
for _, o in ipairs(out) do redis.call('ZADD', KEYS[3], o, o) end
return out
"#,
    )
});

/// Changes a word list. KEYS: words, version. ARGV: max, number of adds,
/// then word/category pairs, then words to remove. Returns the new version,
/// or -1 when the list would exceed max.
static CHANGE_WORDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local max, nadd = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, state = redis.call('HLEN', KEYS[1]), {}
for i = 3 + 2 * nadd, #ARGV do
  local w = ARGV[i]
  if state[w] == nil and redis.call('HEXISTS', KEYS[1], w) == 1 then n = n - 1 end
  state[w] = 'r'
end
for i = 0, nadd - 1 do
  local w = ARGV[3 + 2 * i]
  if state[w] ~= 'a' and (state[w] == 'r' or redis.call('HEXISTS', KEYS[1], w) == 0) then
    n = n + 1
  end
  state[w] = 'a'
end
if n > max then return -1 end
for i = 3 + 2 * nadd, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 0, nadd - 1 do redis.call('HSET', KEYS[1], ARGV[3 + 2 * i], ARGV[4 + 2 * i]) end
return redis.call('INCR', KEYS[2])
",
    )
});

/// Reads a word list with its version. KEYS: words, version.
static WORDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {redis.call('GET', KEYS[2]) or '0'}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
",
    )
});

fn parse_mute(json: &str) -> Result<MuteEntry, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("mute"))
}

impl RedisStore {
    fn words_keys(&self, room: Option<&str>) -> (String, String) {
        match room {
            Some(r) => (self.key(r, "words"), self.key(r, "words_version")),
            None => (
                format!("{}:words:{{*}}", self.prefix),
                format!("{}:words_version:{{*}}", self.prefix),
            ),
        }
    }

    fn audit_key(&self, room: Option<&str>) -> String {
        match room {
            Some(r) => self.key(r, "audit"),
            None => format!("{}:audit:{{*}}", self.prefix),
        }
    }

    pub(super) async fn delete_comment_impl(
        &self,
        room: &str,
        offset: u64,
    ) -> Result<bool, StoreError> {
        let found: i64 = DELETE
            .key(self.key(room, "log"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "deleted"))
            .arg(offset)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }

    pub(super) async fn purge_user_impl(
        &self,
        room: &str,
        user: &str,
    ) -> Result<Vec<u64>, StoreError> {
        PURGE
            .key(self.key(room, "log"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "deleted"))
            .arg(user)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    pub(super) async fn mute_impl(&self, room: &str, entry: &MuteEntry) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(|_| corrupt("mute"))?;
        let _: i64 = self
            .conn()
            .hset(self.key(room, "mutes"), &entry.user, json)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn unmute_impl(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .hdel(self.key(room, "mutes"), user)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    pub(super) async fn mutes_impl(
        &self,
        room: &str,
        now_ms: i64,
    ) -> Result<Vec<MuteEntry>, StoreError> {
        let mut c = self.conn();
        let k = self.key(room, "mutes");
        let all: Vec<(String, String)> = c.hgetall(&k).await.map_err(unavailable)?;
        let mut active = vec![];
        for (_, json) in all {
            let m = parse_mute(&json)?;
            if m.active(now_ms) {
                active.push(m);
            }
        }
        Ok(active)
    }

    pub(super) async fn mute_of_impl(
        &self,
        room: &str,
        user: &str,
        now_ms: i64,
    ) -> Result<Option<MuteEntry>, StoreError> {
        let json: Option<String> = self
            .conn()
            .hget(self.key(room, "mutes"), user)
            .await
            .map_err(unavailable)?;
        match json {
            None => Ok(None),
            Some(j) => Ok(Some(parse_mute(&j)?).filter(|m| m.active(now_ms))),
        }
    }

    pub(super) async fn words_impl(
        &self,
        room: Option<&str>,
    ) -> Result<(u64, Vec<WordEntry>), StoreError> {
        let (words, version) = self.words_keys(room);
        let out: Vec<String> = WORDS
            .key(words)
            .key(version)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let v = out
            .first()
            .and_then(|v| v.parse().ok())
            .ok_or(corrupt("word list version"))?;
        let list = out[1..]
            .chunks_exact(2)
            .map(|p| WordEntry {
                word: p[0].clone(),
                category: p[1].clone(),
            })
            .collect();
        Ok((v, list))
    }

    pub(super) async fn word_version_impl(&self, room: Option<&str>) -> Result<u64, StoreError> {
        let (_, version) = self.words_keys(room);
        let v: Option<u64> = self.conn().get(version).await.map_err(unavailable)?;
        Ok(v.unwrap_or(0))
    }

    pub(super) async fn change_words_impl(
        &self,
        room: Option<&str>,
        add: &[WordEntry],
        remove: &[String],
        max: usize,
    ) -> Result<u64, StoreError> {
        let (words, version) = self.words_keys(room);
        let mut inv = CHANGE_WORDS.key(words);
        inv.key(version).arg(max).arg(add.len());
        for w in add {
            inv.arg(&w.word).arg(&w.category);
        }
        for w in remove {
            inv.arg(w);
        }
        let v: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        if v < 0 {
            return Err(too_many_words(max));
        }
        Ok(v as u64)
    }

    pub(super) async fn claim_slow_mode_impl(
        &self,
        room: &str,
        user: &str,
        interval_ms: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut c = self.conn();
        let k = self.key(room, &format!("slow:{user}"));
        let set: Option<String> = redis::cmd("SET")
            .arg(&k)
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(interval_ms.max(1))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        if set.is_some() {
            return Ok(None);
        }
        let ttl: i64 = c.pttl(&k).await.map_err(unavailable)?;
        Ok(Some(ttl.max(1) as u64))
    }

    pub(super) async fn audit_impl(
        &self,
        room: Option<&str>,
        entry: &AuditEntry,
        cap: usize,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(|_| corrupt("audit entry"))?;
        let k = self.audit_key(room);
        let _: () = redis::pipe()
            .atomic()
            .lpush(&k, json)
            .ignore()
            .ltrim(&k, 0, cap.max(1) as isize - 1)
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn audit_log_impl(
        &self,
        room: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError> {
        let k = self.audit_key(room);
        let start = offset as isize;
        let stop = start + limit.max(1) as isize - 1;
        let (total, page): (u64, Vec<String>) = redis::pipe()
            .atomic()
            .llen(&k)
            .lrange(&k, start, stop)
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let entries = page
            .iter()
            .map(|j| serde_json::from_str(j).map_err(|_| corrupt("audit entry")))
            .collect::<Result<_, _>>()?;
        Ok((total, entries))
    }
}
