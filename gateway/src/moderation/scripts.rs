//! Lua scripts of the moderation slice's Redis store: deleting one comment,
//! purging a user's comments, changing and reading a word list with its
//! allow-list. Each
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

/// Changes a word list and its allow-list. KEYS: words, version, allow.
/// ARGV: max, number of adds, number of removes, number of allow-list adds,
/// then word/category pairs, words to remove, allow-list words to add and
/// allow-list words to remove. Removals apply before additions. Returns the
/// new version, -1 when the word list would exceed max, -2 when the
/// allow-list would.
pub static CHANGE_WORDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local max, nadd = tonumber(ARGV[1]), tonumber(ARGV[2])
local nrem, nallow = tonumber(ARGV[3]), tonumber(ARGV[4])
local a0 = 5
local r0 = a0 + 2 * nadd
local p0 = r0 + nrem
local q0 = p0 + nallow
local n, state = redis.call('HLEN', KEYS[1]), {}
for i = r0, p0 - 1 do
  local w = ARGV[i]
  if state[w] == nil and redis.call('HEXISTS', KEYS[1], w) == 1 then n = n - 1 end
  state[w] = 'r'
end
for i = 0, nadd - 1 do
  local w = ARGV[a0 + 2 * i]
  if state[w] ~= 'a' and (state[w] == 'r' or redis.call('HEXISTS', KEYS[1], w) == 0) then
    n = n + 1
  end
  state[w] = 'a'
end
if n > max then return -1 end
local m, seen = redis.call('SCARD', KEYS[3]), {}
for i = q0, #ARGV do
  local w = ARGV[i]
  if seen[w] == nil and redis.call('SISMEMBER', KEYS[3], w) == 1 then m = m - 1 end
  seen[w] = 'r'
end
for i = p0, q0 - 1 do
  local w = ARGV[i]
  if seen[w] ~= 'a' and (seen[w] == 'r' or redis.call('SISMEMBER', KEYS[3], w) == 0) then
    m = m + 1
  end
  seen[w] = 'a'
end
if m > max then return -2 end
for i = r0, p0 - 1 do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 0, nadd - 1 do redis.call('HSET', KEYS[1], ARGV[a0 + 2 * i], ARGV[a0 + 1 + 2 * i]) end
for i = q0, #ARGV do redis.call('SREM', KEYS[3], ARGV[i]) end
for i = p0, q0 - 1 do redis.call('SADD', KEYS[3], ARGV[i]) end
return redis.call('INCR', KEYS[2])
",
    )
});

/// Reads a word list with its allow-list and version. KEYS: words,
/// version, allow. Returns the version, the number of word/category
/// fields, those fields, then the allow-list words.
pub static WORDS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {redis.call('GET', KEYS[2]) or '0'}
local fields = redis.call('HGETALL', KEYS[1])
out[2] = tostring(#fields)
for _, v in ipairs(fields) do out[#out + 1] = v end
for _, v in ipairs(redis.call('SMEMBERS', KEYS[3])) do out[#out + 1] = v end
return out
",
    )
});
