//! Lua scripts that make multi-step room operations atomic in Redis. Every
//! script touches only keys of one room (one hash tag), so it runs unchanged
//! on a Redis Cluster.

use std::sync::LazyLock;

use redis::Script;

/// Appends an event: next offset, stream entry, comment counters and recent
/// comments. KEYS: meta, epoch, head, log, counts, recent, mutes. ARGV: ts,
/// kind JSON, is_comment, log capacity, recent capacity, epoch candidate,
/// comment sender. Returns the offset, -1 when the room does not exist, or
/// -2 when the sender of a comment is muted at `ts`.
pub static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[3] == '1' then
  local m = redis.call('HGET', KEYS[7], ARGV[7])
  if m then
    local ok, e = pcall(cjson.decode, m)
    if ok and (e.until_ms == nil or e.until_ms == cjson.null or e.until_ms > tonumber(ARGV[1])) then
      return -2
    end
  end
end
redis.call('SET', KEYS[2], ARGV[6], 'NX')
local off = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[4], off .. '-1', 't', ARGV[1], 'k', ARGV[2])
if ARGV[3] == '1' then
  redis.call('HINCRBY', KEYS[5], 'comments', 1)
  local cap = tonumber(ARGV[5])
  if cap > 0 then
    redis.call('LPUSH', KEYS[6], off .. '|' .. ARGV[1] .. '|' .. ARGV[2])
    redis.call('LTRIM', KEYS[6], 0, cap - 1)
  end
end
return off
",
    )
});

/// Appends an event once per key. KEYS: meta, epoch, head, log, once.
/// ARGV: ts, kind JSON, log capacity, epoch candidate. Returns the offset,
/// -1 when the room does not exist, or 0 when the key was used already.
pub static APPEND_ONCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if not redis.call('SET', KEYS[5], '1', 'NX') then return 0 end
redis.call('SET', KEYS[2], ARGV[4], 'NX')
local off = redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[3], off .. '-1', 't', ARGV[1], 'k', ARGV[2])
return off
",
    )
});

/// Appends a batch of comments in one step. KEYS: meta, epoch, head, log,
/// counts, recent, mutes, rate buckets, then one slow-mode key per comment.
/// ARGV: count, log capacity, recent capacity, epoch candidate, comment rate
/// per second (0: none), burst, then per comment: ts, sender, slow-mode ms
/// (0: none), kind JSON. Returns nil when the room does not exist, else one
/// reply per comment: `o:<offset>` logged, `s` shadow muted, `m:<mute
/// JSON>` muted, `r:<ms>` over the sender's comment rate, `w:<ms>` slow
/// mode. The mutes and rate buckets of every sender are read with one HMGET
/// each and the buckets written back with one HSET; the counters, the head
/// and the recent list are written once per batch.
pub static APPEND_COMMENTS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local n = tonumber(ARGV[1])
local rate, burst = tonumber(ARGV[5]), math.max(1, tonumber(ARGV[6]))
local per = 6
redis.call('SET', KEYS[2], ARGV[4], 'NX')
local users = {}
for i = 1, n do users[i] = ARGV[per + (i - 1) * 4 + 2] end
local mutes = redis.call('HMGET', KEYS[7], unpack(users))
local buckets = {}
if rate > 0 then
  local got = redis.call('HMGET', KEYS[8], unpack(users))
  for i = 1, n do
    if got[i] then
      local t, l = string.match(got[i], '^([^|]+)|(.+)$')
      buckets[users[i]] = {tonumber(t), tonumber(l)}
    end
  end
end
local changed = {}
local head = tonumber(redis.call('GET', KEYS[3]) or '0')
local out, recent = {}, {}
for i = 1, n do
  local b = per + (i - 1) * 4
  local ts, user, slow = ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3])
  local now = tonumber(ts)
  local verdict = nil
  local m = mutes[i]
  if m then
    local ok, e = pcall(cjson.decode, m)
    if ok and (e.until_ms == nil or e.until_ms == cjson.null or e.until_ms > now) then
      if e.shadow then verdict = 's' else verdict = 'm:' .. m end
    end
  end
  if not verdict and rate > 0 then
    local bk = buckets[user] or {burst, now}
    local tokens = math.min(burst, bk[1] + math.max(0, now - bk[2]) * rate / 1000)
    if tokens < 1 then
      verdict = 'r:' .. math.max(1, math.ceil((1 - tokens) * 1000 / rate))
    else
      tokens = tokens - 1
    end
    buckets[user] = {tokens, math.max(now, bk[2])}
    changed[user] = true
  end
  if not verdict and slow > 0 then
    if not redis.call('SET', KEYS[8 + i], '1', 'NX', 'PX', slow) then
      verdict = 'w:' .. redis.call('PTTL', KEYS[8 + i])
    end
  end
  if verdict then
    out[i] = verdict
  else
    head = head + 1
    redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[2], head .. '-1', 't', ts, 'k', ARGV[b + 4])
    recent[#recent + 1] = head .. '|' .. ts .. '|' .. ARGV[b + 4]
    out[i] = 'o:' .. head
  end
end
if next(changed) then
  local args = {}
  for u, _ in pairs(changed) do
    args[#args + 1] = u
    args[#args + 1] = string.format('%.4f|%d', buckets[u][1], buckets[u][2])
  end
  redis.call('HSET', KEYS[8], unpack(args))
  -- A bucket refills in burst / rate seconds: an idle room's go with it.
  redis.call('PEXPIRE', KEYS[8], 60000)
end
if #recent > 0 then
  redis.call('SET', KEYS[3], head)
  redis.call('HINCRBY', KEYS[5], 'comments', #recent)
  local cap = tonumber(ARGV[3])
  if cap > 0 then
    local first = math.max(1, #recent - cap + 1)
    redis.call('LPUSH', KEYS[6], unpack(recent, first, #recent))
    redis.call('LTRIM', KEYS[6], 0, cap - 1)
  end
end
return out
",
    )
});

/// Reads a join snapshot. KEYS: meta, epoch, head, counts, recent, viewers,
/// deleted. ARGV: recent count, epoch candidate. Returns nil for a missing
/// room. Deleted comments are left out.
pub static SNAPSHOT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local meta = redis.call('GET', KEYS[1])
if not meta then return false end
redis.call('SET', KEYS[2], ARGV[2], 'NX')
local counts = redis.call('HMGET', KEYS[4], 'likes', 'comments')
local out = {meta, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]) or '0',
  counts[1] or '0', counts[2] or '0', tostring(redis.call('PFCOUNT', KEYS[6]))}
local n = tonumber(ARGV[1])
if n > 0 then
  for _, e in ipairs(redis.call('LRANGE', KEYS[5], 0, n - 1)) do
    if not redis.call('ZSCORE', KEYS[7], string.match(e, '^(%d+)')) then out[#out + 1] = e end
  end
end
return out
",
    )
});

/// Reads the log head. KEYS: meta, epoch, head. ARGV: epoch candidate.
pub static HEAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('SET', KEYS[2], ARGV[1], 'NX')
return {redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3]) or '0'}
",
    )
});

/// Replays the log after a position. KEYS: epoch, head, log, deleted. ARGV:
/// epoch, offset. Returns {0} when not recoverable, else {1, 'off|ts|kind',
/// ...} without deleted comments.
pub static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local epoch = redis.call('GET', KEYS[1])
if not epoch or epoch ~= ARGV[1] then return {0} end
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
local from = tonumber(ARGV[2])
if from > head then return {0} end
if from == head then return {1} end
local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
if #first == 0 then return {0} end
local oldest = tonumber(string.match(first[1][1], '^(%d+)'))
if from + 1 < oldest then return {0} end
local out = {1}
for _, e in ipairs(redis.call('XRANGE', KEYS[3], (from + 1) .. '-1', '+')) do
  local f = e[2]
  local off = string.match(e[1], '^(%d+)')
  if not redis.call('ZSCORE', KEYS[4], off) then
    out[#out + 1] = off .. '|' .. f[2] .. '|' .. f[4]
  end
end
return out
",
    )
});

/// Compare-and-set of a room record. KEYS: meta. ARGV: expected, new.
pub static CAS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});

/// Takes or extends a lease. KEYS: lease, fence. ARGV: node, ttl ms.
/// Returns the fencing token, or -1 while another node holds it.
pub static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local owner, token = string.match(cur, '^(.*):(%d+)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return -1
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
",
    )
});

/// Writes the store's data epoch unless one is there. KEYS: store-epoch.
/// ARGV: candidate. Returns the epoch in force.
pub static CLAIM_EPOCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
"#,
    )
});

/// Whether the room's anchor vanished with its node. KEYS: presence (node
/// -> "online:anchors:expires_ms"). ARGV: now ms. Deletes the expired
/// entries; returns 1 when one of them counted anchors and no live entry
/// does, else 0.
pub static ANCHOR_LOST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now = tonumber(ARGV[1])
local live, lost, expired = false, false, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local online, anchors, untilms = string.match(all[i + 1], '^(-?%d+):(-?%d+):(-?%d+)$')
  anchors, untilms = tonumber(anchors) or 0, tonumber(untilms) or 0
  if untilms > now then
    if anchors > 0 then live = true end
  else
    if anchors > 0 then lost = true end
    table.insert(expired, all[i])
  end
end
if #expired > 0 then redis.call('HDEL', KEYS[1], unpack(expired)) end
if lost and not live then return 1 end
return 0
"#,
    )
});

/// Counts a room as live and as started today, within the limits. KEYS:
/// the live-room set, today's start counter. ARGV: room, max live (0: no
/// limit), max per day (0: no limit). Returns 1 claimed, 2 already live,
/// 3 too many live, 4 too many today.
pub static CLAIM_LIVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 2 end
local max_live, max_day = tonumber(ARGV[2]), tonumber(ARGV[3])
if max_live > 0 and redis.call('SCARD', KEYS[1]) >= max_live then return 3 end
local today = tonumber(redis.call('GET', KEYS[2]) or '0')
if max_day > 0 and today >= max_day then return 4 end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 2 * 86400000)
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"#,
    )
});
