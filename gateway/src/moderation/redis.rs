//! `ModerationStore` on Redis: deleted comments (a sorted set of offsets
//! under the room's hash tag, consulted by the core's snapshot and replay
//! scripts), mutes (a hash, read by the core's append scripts), word lists
//! and allow-lists with a version counter, slow-mode claims (`SET NX PX`) and capped audit
//! lists. The Lua scripts are in `scripts.rs`; each touches one hash tag.

use async_trait::async_trait;
use protocol::WordEntry;
use redis::AsyncCommands;

use super::scripts::{CHANGE_WORDS, DELETE, PURGE, WORDS};
use super::store::{
    Deletion, ModerationStore, WordChange, WordLists, too_many_allowed, too_many_words,
};
use super::{AuditEntry, MuteEntry};
use crate::store::redis::{corrupt, unavailable};
use crate::store::{RedisStore, StoreError};

fn parse_mute(json: &str) -> Result<MuteEntry, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("mute"))
}

/// The keys of a word list, its version and its allow-list (`None`: the
/// global list), all under one hash tag.
fn words_keys(s: &RedisStore, room: Option<&str>) -> (String, String, String) {
    match room {
        Some(r) => (
            s.key(r, "words"),
            s.key(r, "words_version"),
            s.key(r, "words_allow"),
        ),
        None => (
            format!("{}:words:{{*}}", s.prefix()),
            format!("{}:words_version:{{*}}", s.prefix()),
            format!("{}:words_allow:{{*}}", s.prefix()),
        ),
    }
}

/// The key of an audit log (`None`: the global log).
fn audit_key(s: &RedisStore, room: Option<&str>) -> String {
    match room {
        Some(r) => s.key(r, "audit"),
        None => format!("{}:audit:{{*}}", s.prefix()),
    }
}

#[async_trait]
impl ModerationStore for RedisStore {
    async fn delete_comment(&self, room: &str, offset: u64) -> Result<Deletion, StoreError> {
        let found: i64 = DELETE
            .key(self.key(room, "log"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "deleted"))
            .arg(offset)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(match found {
            1 => Deletion::Deleted,
            2 => Deletion::AlreadyDeleted,
            _ => Deletion::NotFound,
        })
    }

    async fn purge_user(&self, room: &str, user: &str) -> Result<Vec<u64>, StoreError> {
        PURGE
            .key(self.key(room, "log"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "deleted"))
            .arg(user)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn mute(&self, room: &str, entry: &MuteEntry) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(|_| corrupt("mute"))?;
        let _: i64 = self
            .conn()
            .hset(self.key(room, "mutes"), &entry.user, json)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn unmute(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .hdel(self.key(room, "mutes"), user)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn mutes(&self, room: &str, now_ms: i64) -> Result<Vec<MuteEntry>, StoreError> {
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

    async fn mute_of(
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

    async fn words(&self, room: Option<&str>) -> Result<WordLists, StoreError> {
        let (words, version, allow) = words_keys(self, room);
        let out: Vec<String> = WORDS
            .key(words)
            .key(version)
            .key(allow)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let bad = || corrupt("word list");
        let v = out.first().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let n: usize = out.get(1).and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let fields = out.get(2..2 + n).ok_or_else(bad)?;
        let words = fields
            .chunks_exact(2)
            .map(|p| WordEntry {
                word: p[0].clone(),
                category: p[1].clone(),
            })
            .collect();
        let mut allow: Vec<String> = out.get(2 + n..).unwrap_or_default().to_vec();
        allow.sort();
        Ok(WordLists {
            version: v,
            words,
            allow,
        })
    }

    async fn word_version(&self, room: Option<&str>) -> Result<u64, StoreError> {
        let (_, version, _) = words_keys(self, room);
        let v: Option<u64> = self.conn().get(version).await.map_err(unavailable)?;
        Ok(v.unwrap_or(0))
    }

    async fn change_words(
        &self,
        room: Option<&str>,
        change: WordChange<'_>,
        max: usize,
    ) -> Result<u64, StoreError> {
        let (words, version, allow) = words_keys(self, room);
        let mut inv = CHANGE_WORDS.key(words);
        inv.key(version)
            .key(allow)
            .arg(max)
            .arg(change.add.len())
            .arg(change.remove.len())
            .arg(change.allow_add.len());
        for w in change.add {
            inv.arg(&w.word).arg(&w.category);
        }
        for w in change
            .remove
            .iter()
            .chain(change.allow_add)
            .chain(change.allow_remove)
        {
            inv.arg(w);
        }
        let v: i64 = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match v {
            -1 => Err(too_many_words(max)),
            -2 => Err(too_many_allowed(max)),
            v if v < 0 => Err(corrupt("word list version")),
            v => Ok(v as u64),
        }
    }

    async fn claim_slow_mode(
        &self,
        room: &str,
        user: &str,
        _now_ms: i64,
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

    async fn audit(
        &self,
        room: Option<&str>,
        entry: &AuditEntry,
        cap: usize,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(|_| corrupt("audit entry"))?;
        let k = audit_key(self, room);
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

    async fn audit_log(
        &self,
        room: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<AuditEntry>), StoreError> {
        let k = audit_key(self, room);
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
