-- Lease the rooms whose notification mail is due, atomically. First every
-- claim whose lease ran out (its notifier crashed or stalled) is due again,
-- at ARGV[1] unless its due entry is earlier. Then up to ARGV[2] due rooms
-- that no one holds move from the due set to the claimed set, scored by
-- the lease's end on Redis's clock; that score is the claim's token. A room
-- held by a live claim stays in the due set when it is due again (a new
-- message arrived meanwhile), untaken until that claim is acknowledged or
-- runs out: two notifiers never hold one room.
--
-- KEYS[1]  due set (zset: room id -> due time, ms, the caller's clock)
-- KEYS[2]  claimed set (zset: room id -> lease end, ms, Redis's clock)
--
-- ARGV[1]  now (ms, the caller's clock: what the due set is scored on)
-- ARGV[2]  most rooms taken
-- ARGV[3]  lease (ms)
--
-- Returns the token (the lease end, ms) followed by the room ids taken.
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local t = redis.call('TIME')
local rnow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', rnow)
for _, id in ipairs(expired) do
  local due = redis.call('ZSCORE', KEYS[1], id)
  if not due or tonumber(due) > now then
    redis.call('ZADD', KEYS[1], now, id)
  end
  redis.call('ZREM', KEYS[2], id)
end

local token = string.format('%.0f', rnow + tonumber(ARGV[3]))
local out = {token}
local offset = 0
while #out - 1 < max do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', offset, max)
  if #ids == 0 then
    break
  end
  offset = offset + #ids
  for _, id in ipairs(ids) do
    if #out - 1 < max and not redis.call('ZSCORE', KEYS[2], id) then
      out[#out + 1] = id
    end
  end
end
for i = 2, #out do
  redis.call('ZREM', KEYS[1], out[i])
  redis.call('ZADD', KEYS[2], token, out[i])
end
return out
