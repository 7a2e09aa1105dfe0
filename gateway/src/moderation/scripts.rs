//! Lua scripts of the moderation slice's Redis store: deleting one comment,
//! purging a user's comments, changing and reading a word list. Each
//! touches the keys of one hash tag (a room, or the global `{*}`), so it
//! runs unchanged on a Redis Cluster.

use std::sync::LazyLock;

use redis::Script;

/// Marks one comment deleted. KEYS: log, recent, deleted. ARGV: offset.
/// Returns 1 when a comment was there and is now deleted, 2 when it was
/// already deleted, 0 when there is none.
pub static DELETE: LazyLock<Script> = LazyLock::new(|| {
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
if redis.call('ZADD', KEYS[3], off, off) == 0 then return 2 end
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
pub static PURGE: LazyLock<Script> = LazyLock::new(|| {
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
pub static CHANGE_WORDS: LazyLock<Script> = LazyLock::new(|| {
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
pub static WORDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {redis.call('GET', KEYS[2]) or '0'}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do out[#out + 1] = v end
return out
",
    )
});
