-- Block or unblock a room's visitor, and publish the room event. A block is
-- also kept in a marker of its own, which the room's deletion leaves, so
-- that it outlives the room for as long as the visitor's token can.
--
-- KEYS[1]  room hash
-- KEYS[2]  the room's blocked marker
-- KEYS[3]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  blocked (0|1)
-- ARGV[2]  events channel
-- ARGV[3]  room event JSON up to the room hash
-- ARGV[4]  ttl of the marker (ms)
-- ARGV[5]  end of the IP block made with this block (ms, '' = none: an IP
--          block made before is kept)
-- ARGV[6]  unused (was the admin log's length)
--
-- Returns {event, field, value, ...}: the room event ("n:t:p|JSON" for the
-- follow-up) then the flat room hash, or an empty array when the room does not exist.

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('HSET', KEYS[1], 'blocked', ARGV[1])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[1], 'ipBlockedUntil', ARGV[5])
  end
else
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], 'ipBlockedUntil')
end
local hash = redis.call('HGETALL', KEYS[1])
local ev = ARGV[3] .. cjson.encode(hash) .. '}'
table.insert(hash, 1, emit(KEYS[1], KEYS[3], ev))
return hash
