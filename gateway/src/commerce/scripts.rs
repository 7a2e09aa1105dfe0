//! Lua scripts of the commerce slice's Redis store. Each touches the keys
//! of one room (the `{room}` hash tag), so it runs unchanged on a Redis
//! Cluster, and each is the whole atomic step the trait promises.
//!
//! Shared layout (`K` = `<prefix>:{room}:`): `Kgoods` (hash id → item
//! JSON), `Kgoods:sold` (hash id → units reserved or confirmed),
//! `Kgoods:held` (hash `goods|user` → units), `Kgoods:keys` (hash
//! `goods|user|key` → reservation id), `Kresv` (hash id → reservation
//! JSON), `Kresv:due` (zset id by expiry), `Kgrab:<user>|<key>` (the
//! answer of a key, `fingerprint|answer JSON`, with a TTL), `Kcoupons`,
//! `Kcoupons:claimed`, `Kcoupons:held`, `Kcclaim:<user>|<key>`,
//! `Kcommerce:counters` (hash of per-item counters `<name>:<id>`; the
//! totals are summed when read) and `Kcommerce:feed` (stream).

use std::sync::LazyLock;

use redis::Script;

/// Adds or changes an item. KEYS: goods. ARGV: id, item JSON (position
/// and switch as for a new item), max goods. Returns the stored JSON, or
/// false when the shelf is full.
pub static PUT_GOODS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local item = cjson.decode(ARGV[2])
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  local o = cjson.decode(old)
  item.position = o.position
  if o.mode == item.mode then item.grabbable = o.grabbable end
else
  if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return false end
  local top = -1
  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
    local p = cjson.decode(v).position
    if p > top then top = p end
  end
  item.position = top + 1
end
local j = cjson.encode(item)
redis.call('HSET', KEYS[1], ARGV[1], j)
return j
"#,
    )
});

/// Puts the shelf in order. KEYS: goods. ARGV: every id, in order.
/// Returns 1, or 0 when the ids are not every item once.
pub static REORDER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('HLEN', KEYS[1]) ~= #ARGV then return 0 end
local seen, items = {}, {}
for i, id in ipairs(ARGV) do
  if seen[id] then return 0 end
  seen[id] = true
  local v = redis.call('HGET', KEYS[1], id)
  if not v then return 0 end
  items[i] = cjson.decode(v)
end
for i, item in ipairs(items) do
  item.position = i - 1
  redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(item))
end
return 1
"#,
    )
});

/// Switches an item. KEYS: goods. ARGV: id, "1" or "0". Returns the new
/// JSON, or false when there is no such item.
pub static SWITCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
local item = cjson.decode(v)
item.grabbable = ARGV[2] == '1'
local j = cjson.encode(item)
redis.call('HSET', KEYS[1], ARGV[1], j)
return j
"#,
    )
});

/// A grab. KEYS: meta, goods, sold, held, keys, resv, due, answer,
/// counters, feed. ARGV: user, goods, quantity, key, now, hold ms,
/// reservation id, fingerprint, answer TTL s, feed cap, room.
/// Returns {'again', answer} / {'conflict'} / {'refused', code} /
/// {'reserved', reservation JSON, remaining}.
pub static GRAB: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local prev = redis.call('GET', KEYS[8])
if prev then
  local sep = string.find(prev, '|', 1, true)
  if string.sub(prev, 1, sep - 1) ~= ARGV[8] then return {'conflict'} end
  return {'again', string.sub(prev, sep + 1)}
end
local function count(name, n)
  redis.call('HINCRBY', KEYS[9], name .. ':' .. ARGV[2], n)
end
local function refuse(code)
  redis.call('SET', KEYS[8], ARGV[8] .. '|{"err":"' .. code .. '"}', 'EX', ARGV[9])
  count('grabs', 1)
  return {'refused', code}
end
local meta = redis.call('GET', KEYS[1])
if not meta then return {'refused', 'room_not_found'} end
if not string.find(meta, '"status":101,', 1, true) then return refuse('room_not_live') end
local gj = redis.call('HGET', KEYS[2], ARGV[2])
if not gj then return refuse('unknown_goods') end
local g = cjson.decode(gj)
if not g.grabbable then return refuse('not_grabbable') end
local q = tonumber(ARGV[3])
if q > g.order_limit then return refuse('order_limit') end
local hk = ARGV[2] .. '|' .. ARGV[1]
local held = tonumber(redis.call('HGET', KEYS[4], hk) or '0')
if g.viewer_limit ~= nil and g.viewer_limit ~= cjson.null and held + q > g.viewer_limit then
  return refuse('viewer_limit')
end
local sold = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if sold + q > g.quota then return refuse('sold_out') end
sold = sold + q
redis.call('HSET', KEYS[3], ARGV[2], sold)
redis.call('HSET', KEYS[4], hk, held + q)
local now = tonumber(ARGV[5])
local r = cjson.encode({id = ARGV[7], room = ARGV[11], goods = ARGV[2], user = ARGV[1],
  quantity = q, live_price = g.live_price, created_at = now,
  expires_at = now + tonumber(ARGV[6]), state = 'reserved'})
redis.call('HSET', KEYS[6], ARGV[7], r)
redis.call('ZADD', KEYS[7], now + tonumber(ARGV[6]), ARGV[7])
redis.call('HSET', KEYS[5], hk .. '|' .. ARGV[4], ARGV[7])
count('grabs', 1)
count('reserved', q)
redis.call('XADD', KEYS[10], 'MAXLEN', '~', ARGV[10], '*', 'type', 'grab.reserved', 'at', now, 'data', r)
redis.call('SET', KEYS[8], ARGV[8] .. '|{"ok":' .. r .. '}', 'EX', ARGV[9])
return {'reserved', r, tostring(g.quota - sold)}
"#,
    )
});

/// Settles reservations. KEYS: resv, due, sold, held, counters, feed.
/// ARGV: to (`confirmed`, `cancelled`, `expired`), now, feed cap, then
/// the reservation ids. Returns, per id, {'ok', JSON} / {'state', JSON} /
/// {'none'} flattened in pairs (`none` pairs with '').
pub static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local to, now, out = ARGV[1], tonumber(ARGV[2]), {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local j = redis.call('HGET', KEYS[1], id)
  if not j then
    out[#out + 1] = 'none'; out[#out + 1] = ''
  else
    local r = cjson.decode(j)
    if r.state ~= 'reserved' then
      out[#out + 1] = 'state'; out[#out + 1] = j
    else
      r.state = to
      redis.call('ZREM', KEYS[2], id)
      if to ~= 'confirmed' then
        redis.call('HINCRBY', KEYS[3], r.goods, -r.quantity)
        redis.call('HINCRBY', KEYS[4], r.goods .. '|' .. r.user, -r.quantity)
      end
      redis.call('HINCRBY', KEYS[5], to .. ':' .. r.goods, r.quantity)
      local n = cjson.encode(r)
      redis.call('HSET', KEYS[1], id, n)
      local kind = 'grab.' .. to
      redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[3], '*', 'type', kind, 'at', now, 'data', n)
      out[#out + 1] = 'ok'; out[#out + 1] = n
    end
  end
end
return out
"#,
    )
});

/// A coupon claim. KEYS: meta, coupons, claimed, held, answer, counters,
/// feed. ARGV: user, coupon, now, answer TTL s, feed cap.
/// Returns {'again', answer} / {'conflict'} / {'refused', code} /
/// {'claimed', held, claimed, stock}.
pub static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local prev = redis.call('GET', KEYS[5])
if prev then
  local sep = string.find(prev, '|', 1, true)
  if string.sub(prev, 1, sep - 1) ~= ARGV[2] then return {'conflict'} end
  return {'again', string.sub(prev, sep + 1)}
end
local function refuse(code)
  redis.call('SET', KEYS[5], ARGV[2] .. '|{"err":"' .. code .. '"}', 'EX', ARGV[4])
  return {'refused', code}
end
local meta = redis.call('GET', KEYS[1])
if not meta then return {'refused', 'room_not_found'} end
if not string.find(meta, '"status":101,', 1, true) then return refuse('room_not_live') end
local cj = redis.call('HGET', KEYS[2], ARGV[2])
if not cj then return refuse('not_found') end
local c = cjson.decode(cj)
local now = tonumber(ARGV[3])
local claimed = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
local open = c.active
  and (c.valid_from == cjson.null or c.valid_from <= now)
  and (c.valid_until == cjson.null or now < c.valid_until)
if not open or claimed >= c.stock then return refuse('coupon_gone') end
local hk = ARGV[2] .. '|' .. ARGV[1]
local held = tonumber(redis.call('HGET', KEYS[4], hk) or '0')
if held >= c.per_viewer then return refuse('viewer_limit') end
redis.call('HSET', KEYS[4], hk, held + 1)
redis.call('HSET', KEYS[3], ARGV[2], claimed + 1)
redis.call('HINCRBY', KEYS[6], 'coupon_claims:' .. ARGV[2], 1)
local data = cjson.encode({coupon = ARGV[2], user = ARGV[1], held = held + 1})
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[5], '*', 'type', 'coupon.claimed', 'at', now, 'data', data)
redis.call('SET', KEYS[5], ARGV[2] .. '|{"ok":' .. (held + 1) .. '}', 'EX', ARGV[4])
return {'claimed', tostring(held + 1), tostring(claimed + 1), tostring(c.stock)}
"#,
    )
});

/// Marks a coupon withdrawn. KEYS: coupons. ARGV: id.
pub static END_COUPON: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local c = cjson.decode(v)
c.active = false
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(c))
return 1
"#,
    )
});
