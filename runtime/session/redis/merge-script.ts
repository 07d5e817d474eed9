/**
 * The server-side merge of one session delta into its hash (layout in
 * ./codec.ts), with the same rules as model.ts merge(): per attribute the
 * greater version wins, a tombstone wins a tie, then the greater JSON text;
 * a session tombstone hides every attribute at or before it; timestamps
 * merge by max. So hosts converge whatever order their writes arrive in,
 * and a write costs one EVALSHA per session (pipelined per batch).
 *
 * Strings are compared byte by byte in a helper, never with Lua's `<`:
 * Redis calls setlocale(LC_COLLATE, "") at start, so `<` follows the
 * server's locale (en_US sorts 'a' before 'B'), which is not the order
 * versions are issued in.
 *
 * KEYS[1]  the session hash
 * ARGV[1]  destroyed version or ''      ARGV[2] touchedAt or ''   ARGV[3] expiresAt or ''
 * ARGV[4]  ms kept after expiresAt (tombstone retention)
 * ARGV[5]  TTL in ms for a session that has no expiresAt yet
 * ARGV[6…] field, value pairs
 * Returns 1 if the hash changed, else 0.
 */
export const MERGE_SCRIPT = `
local function gt(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local function verOf(v) return string.sub(v, 1, (string.find(v, '|', 1, true) or (#v + 1)) - 1) end

local key = KEYS[1]
local changed = 0
local d = redis.call('HGET', key, '!d')
if d == false then d = nil end
local nd = ARGV[1]
if nd ~= '' and (d == nil or gt(nd, d)) then
  d = nd
  redis.call('HSET', key, '!d', d)
  changed = 1
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'a:' and not gt(verOf(all[i + 1]), d) then redis.call('HDEL', key, all[i]) end
  end
end
for i = 6, #ARGV, 2 do
  local f, val = ARGV[i], ARGV[i + 1]
  local v = verOf(val)
  if d == nil or gt(v, d) then
    local cur = redis.call('HGET', key, f)
    local take
    if cur == false then
      take = true
    else
      local cv = verOf(cur)
      if v ~= cv then
        take = gt(v, cv)
      else
        local inTomb, curTomb = (#val == #v + 1), (#cur == #cv + 1)
        if inTomb ~= curTomb then take = inTomb else take = gt(val, cur) end
      end
    end
    if take then
      redis.call('HSET', key, f, val)
      changed = 1
    end
  end
end
for j, f in ipairs({'!t', '!e'}) do
  local s = ARGV[j + 1]
  if s ~= '' then
    local cur = tonumber(redis.call('HGET', key, f) or '0') or 0
    if tonumber(s) > cur then
      redis.call('HSET', key, f, s)
      changed = 1
    end
  end
end
if redis.call('EXISTS', key) == 1 then
  local e = tonumber(redis.call('HGET', key, '!e') or '0') or 0
  if e > 0 then
    redis.call('PEXPIREAT', key, e + tonumber(ARGV[4]))
  elseif redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, tonumber(ARGV[5]))
  end
end
return changed
`;
