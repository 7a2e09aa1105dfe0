//! Redis `Store` for a cluster of gateway nodes. Room keys share the hash tag
//! `{room}` so one room lives on one Cluster shard and its multi-step
//! operations run as one Lua script. The event log is a capped Stream whose
//! entry ids are the offsets. The slices' Redis implementations build their
//! keys and connections with the `pub(crate)` helpers here.

mod conn;
mod scripts;

pub use conn::{BoundedPush, PUSH_QUEUE, RedisConn, Topology};

use async_trait::async_trait;
use protocol::{EventKind, RoomEvent, Totals};
use redis::AsyncCommands;

use super::{
    Appended, CommentRate, LiveClaim, LogPosition, PendingComment, Presence, Replay, RoomUpdate,
    Snapshot, Store, StoreError,
};
use crate::room::Room;

/// How long a user's directory entry outlives its last change (entries of
/// nodes that died are dropped when looked up; this bounds what is left of
/// users who never come back).
const USER_ENTRY_TTL_MS: i64 = 24 * 3600 * 1000;

/// Redis-backed store.
pub struct RedisStore {
    conn: RedisConn,
    prefix: String,
    log_capacity: usize,
    recent_capacity: usize,
}

/// A Redis error as the store reports it.
pub(crate) fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A value Redis holds that does not parse.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("unreadable {what} in Redis"))
}

fn new_epoch() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Parses a log entry `offset|ts|kind-json`.
fn parse_entry(s: &str) -> Result<RoomEvent, StoreError> {
    let mut parts = s.splitn(3, '|');
    let (Some(off), Some(ts), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(corrupt("log entry"));
    };
    Ok(RoomEvent {
        offset: off.parse().map_err(|_| corrupt("offset"))?,
        ts: ts.parse().map_err(|_| corrupt("timestamp"))?,
        kind: serde_json::from_str(kind).map_err(|_| corrupt("event"))?,
    })
}

fn parse_room(json: &str) -> Result<Room, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("room"))
}

impl RedisStore {
    /// A store over `conn`, its keys under `prefix`.
    pub fn new(conn: RedisConn, prefix: &str, log_capacity: usize, recent_capacity: usize) -> Self {
        RedisStore {
            conn,
            prefix: prefix.to_string(),
            log_capacity: log_capacity.max(1),
            recent_capacity,
        }
    }

    /// A connection (a cheap handle on the shared one).
    pub(crate) fn conn(&self) -> RedisConn {
        self.conn.clone()
    }

    /// The prefix of every key.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A room key; `{room}` is the Cluster hash tag.
    pub(crate) fn key(&self, room: &str, what: &str) -> String {
        format!("{}:{{{room}}}:{what}", self.prefix)
    }

    /// A key of the deployment's live counts; one hash tag, so the claim
    /// script runs on one Cluster shard.
    fn lives_key(&self, what: &str) -> String {
        format!("{}:{{lives}}:{what}", self.prefix)
    }

    /// The data epoch of the whole store (see `Store::claim_store_epoch`).
    fn store_epoch_key(&self) -> String {
        format!("{}:store-epoch", self.prefix)
    }

    fn rooms_key(&self) -> String {
        format!("{}:rooms", self.prefix)
    }

    /// A user's directory entry: the nodes with a session of theirs.
    fn user_key(&self, user: &str) -> String {
        format!("{}:user:{{{user}}}:nodes", self.prefix)
    }

    /// Exists while the node is alive (expires with its heartbeat).
    /// One hash of every node's report (`expiry|info` per node id), on one
    /// slot.
    fn node_infos_key(&self) -> String {
        format!("{}:{{nodes}}:info", self.prefix)
    }

    fn node_key(&self, node: &str) -> String {
        format!("{}:node:{{{node}}}:alive", self.prefix)
    }

    fn deadlines_key(&self) -> String {
        format!("{}:deadlines", self.prefix)
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn create_room(&self, room: Room) -> Result<(), StoreError> {
        let json = serde_json::to_string(&room).map_err(|_| corrupt("room"))?;
        let mut c = self.conn();
        let created: bool = redis::cmd("SET")
            .arg(self.key(&room.id, "meta"))
            .arg(json)
            .arg("NX")
            .query_async::<Option<String>>(&mut c)
            .await
            .map_err(unavailable)?
            .is_some();
        if !created {
            return Err(StoreError::Conflict);
        }
        let _: () = c
            .sadd(self.rooms_key(), &room.id)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn room(&self, id: &str) -> Result<Room, StoreError> {
        let json: Option<String> = self
            .conn()
            .get(self.key(id, "meta"))
            .await
            .map_err(unavailable)?;
        parse_room(&json.ok_or(StoreError::NotFound)?)
    }

    async fn rooms(&self) -> Result<Vec<Room>, StoreError> {
        let mut c = self.conn();
        let mut ids: Vec<String> = c.smembers(self.rooms_key()).await.map_err(unavailable)?;
        ids.sort();
        let mut rooms = Vec::with_capacity(ids.len());
        for id in ids {
            let json: Option<String> = c.get(self.key(&id, "meta")).await.map_err(unavailable)?;
            if let Some(j) = json {
                rooms.push(parse_room(&j)?);
            }
        }
        Ok(rooms)
    }

    async fn update_room(&self, id: &str, f: RoomUpdate<'_>) -> Result<Room, StoreError> {
        let mut c = self.conn();
        let k = self.key(id, "meta");
        for _ in 0..16 {
            let old: Option<String> = c.get(&k).await.map_err(unavailable)?;
            let old = old.ok_or(StoreError::NotFound)?;
            let mut room = parse_room(&old)?;
            let version = room.version;
            f(&mut room).map_err(StoreError::Rejected)?;
            room.version = version + 1;
            let new = serde_json::to_string(&room).map_err(|_| corrupt("room"))?;
            let swapped: i64 = scripts::CAS
                .key(&k)
                .arg(&old)
                .arg(&new)
                .invoke_async(&mut c)
                .await
                .map_err(unavailable)?;
            if swapped == 1 {
                return Ok(room);
            }
        }
        Err(StoreError::Unavailable(
            "room update kept conflicting".into(),
        ))
    }

    async fn append(&self, room: &str, ts: i64, kind: EventKind) -> Result<RoomEvent, StoreError> {
        let json = serde_json::to_string(&kind).map_err(|_| corrupt("event"))?;
        let sender = match &kind {
            EventKind::Comment(c) => Some(c.user.as_str()),
            _ => None,
        };
        let offset: i64 = scripts::APPEND
            .key(self.key(room, "meta"))
            .key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .key(self.key(room, "log"))
            .key(self.key(room, "counts"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "mutes"))
            .arg(ts)
            .arg(json)
            .arg(if sender.is_some() { "1" } else { "0" })
            .arg(self.log_capacity)
            .arg(self.recent_capacity)
            .arg(new_epoch())
            .arg(sender.unwrap_or(""))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match offset {
            -1 => return Err(StoreError::NotFound),
            -2 => return Err(super::muted()),
            _ => {}
        }
        Ok(RoomEvent {
            offset: offset as u64,
            ts,
            kind,
        })
    }

    async fn append_once(
        &self,
        room: &str,
        ts: i64,
        kind: EventKind,
        once: &str,
    ) -> Result<Option<RoomEvent>, StoreError> {
        let json = serde_json::to_string(&kind).map_err(|_| corrupt("event"))?;
        let offset: i64 = scripts::APPEND_ONCE
            .key(self.key(room, "meta"))
            .key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .key(self.key(room, "log"))
            .key(self.key(room, &format!("once:{once}")))
            .arg(ts)
            .arg(json)
            .arg(self.log_capacity)
            .arg(new_epoch())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        match offset {
            -1 => Err(StoreError::NotFound),
            0 => Ok(None),
            _ => Ok(Some(RoomEvent {
                offset: offset as u64,
                ts,
                kind,
            })),
        }
    }

    async fn append_comments(
        &self,
        room: &str,
        batch: &[PendingComment],
        rate: CommentRate,
    ) -> Result<Vec<Appended>, StoreError> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        let mut inv = scripts::APPEND_COMMENTS.key(self.key(room, "meta"));
        inv.key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .key(self.key(room, "log"))
            .key(self.key(room, "counts"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "mutes"))
            .key(self.key(room, "rate"));
        inv.arg(batch.len())
            .arg(self.log_capacity)
            .arg(self.recent_capacity)
            .arg(new_epoch())
            .arg(rate.per_s)
            .arg(rate.burst);
        let mut kinds = Vec::with_capacity(batch.len());
        for p in batch {
            inv.key(self.key(room, &format!("slow:{}", p.comment.user)));
            let kind = EventKind::Comment(p.comment.clone());
            let json = serde_json::to_string(&kind).map_err(|_| corrupt("event"))?;
            inv.arg(p.ts)
                .arg(&p.comment.user)
                .arg(p.slow_mode_ms)
                .arg(json);
            kinds.push(kind);
        }
        let out: Option<Vec<String>> = inv
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let out = out.ok_or(StoreError::NotFound)?;
        if out.len() != batch.len() {
            return Err(corrupt("batch reply"));
        }
        out.iter()
            .zip(batch.iter().zip(kinds))
            .map(|(r, (p, kind))| match r.split_once(':') {
                Some(("o", off)) => Ok(Appended::Logged(RoomEvent {
                    offset: off.parse().map_err(|_| corrupt("offset"))?,
                    ts: p.ts,
                    kind,
                })),
                Some(("m", json)) => serde_json::from_str(json)
                    .map(Appended::Muted)
                    .map_err(|_| corrupt("mute")),
                Some(("r", ms)) => Ok(Appended::RateLimited(
                    ms.parse::<i64>().unwrap_or(1).max(1) as u64
                )),
                Some(("w", ms)) => Ok(Appended::SlowMode(
                    ms.parse::<i64>().unwrap_or(1).max(1) as u64
                )),
                _ if r == "s" => Ok(Appended::Shadow),
                _ => Err(corrupt("batch reply")),
            })
            .collect()
    }

    async fn snapshot(&self, room: &str, recent: usize) -> Result<Snapshot, StoreError> {
        let out: Option<Vec<String>> = scripts::SNAPSHOT
            .key(self.key(room, "meta"))
            .key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .key(self.key(room, "counts"))
            .key(self.key(room, "recent"))
            .key(self.key(room, "viewers"))
            .key(self.key(room, "deleted"))
            .arg(recent)
            .arg(new_epoch())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let out = out.ok_or(StoreError::NotFound)?;
        let [meta, epoch, head, likes, comments, viewers] =
            out.get(..6).ok_or(corrupt("snapshot"))?
        else {
            return Err(corrupt("snapshot"));
        };
        let num = |s: &String| s.parse::<u64>().map_err(|_| corrupt("counter"));
        let mut recent_events = out[6..]
            .iter()
            .map(|e| parse_entry(e))
            .collect::<Result<Vec<_>, _>>()?;
        recent_events.reverse();
        Ok(Snapshot {
            room: parse_room(meta)?,
            position: LogPosition {
                epoch: epoch.clone(),
                offset: num(head)?,
            },
            totals: Totals {
                likes: num(likes)?,
                comments: num(comments)?,
                viewers: num(viewers)?,
                online: 0,
            },
            recent: recent_events,
        })
    }

    async fn head_offset(&self, room: &str) -> Result<u64, StoreError> {
        let head: Option<u64> = self
            .conn()
            .get(self.key(room, "head"))
            .await
            .map_err(unavailable)?;
        Ok(head.unwrap_or(0))
    }

    async fn head(&self, room: &str) -> Result<LogPosition, StoreError> {
        let out: Option<(String, String)> = scripts::HEAD
            .key(self.key(room, "meta"))
            .key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .arg(new_epoch())
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let (epoch, head) = out.ok_or(StoreError::NotFound)?;
        Ok(LogPosition {
            epoch,
            offset: head.parse().map_err(|_| corrupt("head"))?,
        })
    }

    async fn replay(&self, room: &str, from: &LogPosition) -> Result<Replay, StoreError> {
        let out: Vec<redis::Value> = scripts::REPLAY
            .key(self.key(room, "epoch"))
            .key(self.key(room, "head"))
            .key(self.key(room, "log"))
            .key(self.key(room, "deleted"))
            .arg(&from.epoch)
            .arg(from.offset)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        let recovered = matches!(out.first(), Some(redis::Value::Int(1)));
        if !recovered {
            return Ok(Replay::NotRecovered);
        }
        let mut events = Vec::with_capacity(out.len().saturating_sub(1));
        for v in &out[1..] {
            let s: String = redis::FromRedisValue::from_redis_value(v.clone())
                .map_err(|_| corrupt("log entry"))?;
            events.push(parse_entry(&s)?);
        }
        Ok(Replay::Recovered(events))
    }

    async fn add_likes(&self, room: &str, taps: u64) -> Result<u64, StoreError> {
        self.conn()
            .hincr(self.key(room, "counts"), "likes", taps)
            .await
            .map_err(unavailable)
    }

    async fn add_viewer(&self, room: &str, user: &str) -> Result<bool, StoreError> {
        let changed: i64 = self
            .conn()
            .pfadd(self.key(room, "viewers"), user)
            .await
            .map_err(unavailable)?;
        Ok(changed == 1)
    }

    async fn totals(&self, room: &str) -> Result<Totals, StoreError> {
        let (likes, comments, viewers): (Option<u64>, Option<u64>, u64) = redis::pipe()
            .hget(self.key(room, "counts"), "likes")
            .hget(self.key(room, "counts"), "comments")
            .pfcount(self.key(room, "viewers"))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(Totals {
            likes: likes.unwrap_or(0),
            comments: comments.unwrap_or(0),
            viewers,
            online: 0,
        })
    }

    async fn set_presence(
        &self,
        room: &str,
        node: &str,
        presence: Presence,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let value = format!("{}:{}:{}", presence.online, presence.anchors, expires_ms);
        let _: i64 = self
            .conn()
            .hset(self.key(room, "presence"), node, value)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn presence(&self, room: &str, now_ms: i64) -> Result<Presence, StoreError> {
        let mut c = self.conn();
        let k = self.key(room, "presence");
        let all: Vec<(String, String)> = c.hgetall(&k).await.map_err(unavailable)?;
        let mut sum = Presence::default();
        let mut expired = vec![];
        for (node, v) in all {
            let mut it = v.split(':').map(|p| p.parse::<i64>().unwrap_or(0));
            let (online, anchors, until) = (
                it.next().unwrap_or(0),
                it.next().unwrap_or(0),
                it.next().unwrap_or(0),
            );
            if until > now_ms {
                sum.online += online.max(0) as u64;
                sum.anchors += anchors.max(0) as u64;
            } else if anchors <= 0 {
                // Expired entries that counted anchors stay for
                // `anchor_presence_lost`.
                expired.push(node);
            }
        }
        if !expired.is_empty() {
            let _: Result<i64, _> = c.hdel(&k, expired).await;
        }
        Ok(sum)
    }

    async fn set_node_alive(&self, node: &str, expires_ms: i64) -> Result<(), StoreError> {
        let ttl = (expires_ms - crate::clock::now_ms()).max(1);
        let _: () = self
            .conn()
            .pset_ex(self.node_key(node), expires_ms, ttl as u64)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn set_node_info(
        &self,
        node: &str,
        info: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        let _: () = self
            .conn()
            .hset(self.node_infos_key(), node, format!("{expires_ms}|{info}"))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn node_infos(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        let all: Vec<(String, String)> = self
            .conn()
            .hgetall(self.node_infos_key())
            .await
            .map_err(unavailable)?;
        let mut live = Vec::new();
        let mut expired = Vec::new();
        for (node, value) in all {
            let (until, info) = value.split_once('|').unwrap_or(("0", ""));
            if until.parse::<i64>().unwrap_or(0) > now_ms {
                live.push((node, info.to_string()));
            } else {
                expired.push(node);
            }
        }
        if !expired.is_empty() {
            // A node gone for good: its report goes with the next read.
            let _: Result<(), _> = self.conn().hdel(self.node_infos_key(), expired).await;
        }
        live.sort();
        Ok(live)
    }

    async fn add_user_node(&self, users: &[String], node: &str) -> Result<(), StoreError> {
        for chunk in users.chunks(500) {
            let mut pipe = redis::pipe();
            for u in chunk {
                let k = self.user_key(u);
                pipe.sadd(&k, node).ignore();
                pipe.pexpire(&k, USER_ENTRY_TTL_MS).ignore();
            }
            let _: () = pipe
                .query_async(&mut self.conn())
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    async fn remove_user_node(&self, user: &str, node: &str) -> Result<(), StoreError> {
        let _: i64 = self
            .conn()
            .srem(self.user_key(user), node)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn user_nodes(&self, user: &str, _now_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut c = self.conn();
        let nodes: Vec<String> = c.smembers(self.user_key(user)).await.map_err(unavailable)?;
        let mut alive = Vec::with_capacity(nodes.len());
        let mut dead = vec![];
        for n in nodes {
            // Node keys expire with the heartbeat: one that is gone is dead.
            let live: bool = c.exists(self.node_key(&n)).await.map_err(unavailable)?;
            if live { alive.push(n) } else { dead.push(n) }
        }
        if !dead.is_empty() {
            let _: Result<i64, _> = c.srem(self.user_key(user), dead).await;
        }
        Ok(alive)
    }

    async fn set_deadline(&self, room: &str, at_ms: Option<i64>) -> Result<(), StoreError> {
        let mut c = self.conn();
        let _: i64 = match at_ms {
            Some(at) => c.zadd(self.deadlines_key(), room, at).await,
            None => c.zrem(self.deadlines_key(), room).await,
        }
        .map_err(unavailable)?;
        Ok(())
    }

    async fn due_rooms(&self, now_ms: i64) -> Result<Vec<String>, StoreError> {
        self.conn()
            .zrangebyscore(self.deadlines_key(), "-inf", now_ms)
            .await
            .map_err(unavailable)
    }

    async fn lease(
        &self,
        name: &str,
        node: &str,
        _now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        let token: i64 = scripts::LEASE
            .key(format!("{}:lease:{{{name}}}", self.prefix))
            .key(format!("{}:fence:{{{name}}}", self.prefix))
            .arg(node)
            .arg(ttl_ms.max(1))
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok((token >= 0).then_some(token as u64))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn anchor_presence_lost(&self, room: &str, now_ms: i64) -> Result<bool, StoreError> {
        let lost: i64 = scripts::ANCHOR_LOST
            .key(self.key(room, "presence"))
            .arg(now_ms)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(lost == 1)
    }

    async fn claim_live(
        &self,
        room: &str,
        day: u64,
        max_live: u64,
        max_per_day: u64,
    ) -> Result<LiveClaim, StoreError> {
        let out: i64 = scripts::CLAIM_LIVE
            .key(self.lives_key("rooms"))
            .key(self.lives_key(&format!("day:{day}")))
            .arg(room)
            .arg(max_live)
            .arg(max_per_day)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(match out {
            1 => LiveClaim::Claimed,
            2 => LiveClaim::AlreadyLive,
            3 => LiveClaim::TooManyLive,
            _ => LiveClaim::TooManyToday,
        })
    }

    async fn release_live(
        &self,
        room: &str,
        day: u64,
        started_today: bool,
    ) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.srem(self.lives_key("rooms"), room).ignore();
        if started_today {
            pipe.decr(self.lives_key(&format!("day:{day}")), 1).ignore();
        }
        pipe.query_async::<()>(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn live_counts(&self, day: u64) -> Result<(u64, u64), StoreError> {
        let (live, today): (u64, Option<u64>) = redis::pipe()
            .scard(self.lives_key("rooms"))
            .get(self.lives_key(&format!("day:{day}")))
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok((live, today.unwrap_or(0)))
    }

    async fn claim_store_epoch(&self, candidate: &str) -> Result<String, StoreError> {
        scripts::CLAIM_EPOCH
            .key(self.store_epoch_key())
            .arg(candidate)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)
    }

    async fn store_epoch(&self) -> Result<Option<String>, StoreError> {
        self.conn()
            .get(self.store_epoch_key())
            .await
            .map_err(unavailable)
    }
}
