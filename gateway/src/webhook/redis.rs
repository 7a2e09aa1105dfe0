//! `WebhookStore` on Redis: every key of it shares the hash tag
//! `{webhooks}` under the deployment prefix (one Cluster shard, so each
//! step is one Lua script): `<prefix>:{webhooks}:queue`, a stream read by
//! the consumer group `delivery` (one consumer per node; `XAUTOCLAIM`
//! takes over the entries of a node idle past the claim), `:delayed`, a
//! sorted set of jobs waiting for their retry (moved back into the stream
//! when due), `:dead`, a hash of dead letters, and `:endpoints`, a hash of
//! endpoints.

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::{AsyncCommands, Script};

use super::store::{Claimed, Endpoint, Job, Settle, WebhookStore};
use crate::store::redis::{corrupt, unavailable};
use crate::store::{RedisStore, StoreError};

/// The consumer group of the delivery stream.
const GROUP: &str = "delivery";

/// Creates the consumer group when it is missing (a fresh or emptied
/// store), moves due retries into the stream, takes over entries idle past
/// the claim, then reads new ones. KEYS: queue, delayed. ARGV: group,
/// consumer, now, max, claim ms. Returns entry id, job, entry id, job...
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local grouped = false
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    for i = 1, #g, 2 do
      if g[i] == 'name' and g[i + 1] == ARGV[1] then grouped = true end
    end
  end
end
if not grouped then
  -- From the stream's start: jobs queued before the group existed count.
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
end
for _, j in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, 100)) do
  redis.call('XADD', KEYS[1], '*', 'job', j)
  redis.call('ZREM', KEYS[2], j)
end
local max = tonumber(ARGV[4])
local out = {}
local function take(entries)
  for _, e in ipairs(entries) do
    if type(e) == 'table' and type(e[2]) == 'table' and e[2][2] then
      out[#out + 1] = e[1]
      out[#out + 1] = e[2][2]
    end
  end
end
local c = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[5], '0-0', 'COUNT', max)
take(c[2])
local left = max - #out / 2
if left > 0 then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', left, 'STREAMS', KEYS[1], '>')
  if r then take(r[1][2]) end
end
return out
"#,
    )
});

/// Ends an attempt if its entry is still the consumer's. KEYS: queue,
/// delayed, dead. ARGV: group, consumer, entry id, how (done, retry,
/// dead), job, due ms, job id. Returns 1, or 0 when the claim was lost.
static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #p == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if ARGV[4] == 'retry' then
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
elseif ARGV[4] == 'dead' then
  redis.call('HSET', KEYS[3], ARGV[7], ARGV[5])
end
return 1
"#,
    )
});

/// Moves a dead letter back into the stream. KEYS: queue, dead. ARGV: job
/// id, reset job. Returns 1, or 0 when there was none.
static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])
return 1
"#,
    )
});

fn key(s: &RedisStore, what: &str) -> String {
    format!("{}:{{webhooks}}:{what}", s.prefix())
}

fn parse_job(json: &str) -> Result<Job, StoreError> {
    serde_json::from_str(json).map_err(|_| corrupt("webhook job"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|_| corrupt("webhook"))
}

#[async_trait]
impl WebhookStore for RedisStore {
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let json = to_json(endpoint)?;
        let _: i64 = self
            .conn()
            .hset(key(self, "endpoints"), &endpoint.id, json)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>, StoreError> {
        let all: Vec<(String, String)> = self
            .conn()
            .hgetall(key(self, "endpoints"))
            .await
            .map_err(unavailable)?;
        let mut out = all
            .iter()
            .map(|(_, j)| serde_json::from_str(j).map_err(|_| corrupt("webhook endpoint")))
            .collect::<Result<Vec<Endpoint>, _>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn()
            .hdel(key(self, "endpoints"), id)
            .await
            .map_err(unavailable)?;
        Ok(n > 0)
    }

    async fn enqueue(&self, jobs: &[Job]) -> Result<(), StoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for j in jobs {
            pipe.cmd("XADD")
                .arg(key(self, "queue"))
                .arg("*")
                .arg("job")
                .arg(to_json(j)?)
                .ignore();
        }
        let _: () = pipe
            .query_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn claim(
        &self,
        consumer: &str,
        now: i64,
        max: usize,
        claim_ms: u64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let flat: Vec<String> = CLAIM
            .key(key(self, "queue"))
            .key(key(self, "delayed"))
            .arg(GROUP)
            .arg(consumer)
            .arg(now)
            .arg(max.max(1))
            .arg(claim_ms)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        flat.chunks_exact(2)
            .map(|p| {
                Ok(Claimed {
                    token: p[0].clone(),
                    job: parse_job(&p[1])?,
                })
            })
            .collect()
    }

    async fn settle(
        &self,
        consumer: &str,
        claimed: &Claimed,
        job: &Job,
        how: Settle,
    ) -> Result<bool, StoreError> {
        let (what, due) = match how {
            Settle::Done => ("done", 0),
            Settle::Retry { due_ms } => ("retry", due_ms),
            Settle::Dead => ("dead", 0),
        };
        let n: i64 = SETTLE
            .key(key(self, "queue"))
            .key(key(self, "delayed"))
            .key(key(self, "dead"))
            .arg(GROUP)
            .arg(consumer)
            .arg(&claimed.token)
            .arg(what)
            .arg(to_json(job)?)
            .arg(due)
            .arg(&job.id)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }

    async fn dead_letters(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Job>, StoreError> {
        let all: Vec<(String, String)> = self
            .conn()
            .hgetall(key(self, "dead"))
            .await
            .map_err(unavailable)?;
        let mut jobs = all
            .iter()
            .filter(|(id, _)| after.is_none_or(|a| id.as_str() > a))
            .map(|(_, j)| parse_job(j))
            .collect::<Result<Vec<Job>, _>>()?;
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        jobs.truncate(limit);
        Ok(jobs)
    }

    async fn replay_dead(&self, id: &str) -> Result<bool, StoreError> {
        let json: Option<String> = self
            .conn()
            .hget(key(self, "dead"), id)
            .await
            .map_err(unavailable)?;
        let Some(json) = json else {
            return Ok(false);
        };
        let mut job = parse_job(&json)?;
        job.attempts = 0;
        job.last_error = None;
        let n: i64 = REPLAY
            .key(key(self, "queue"))
            .key(key(self, "dead"))
            .arg(id)
            .arg(to_json(&job)?)
            .invoke_async(&mut self.conn())
            .await
            .map_err(unavailable)?;
        Ok(n == 1)
    }
}
