-- Block or unblock a room's visitor, and publish the room event.
--
-- KEYS[1]  room hash
-- KEYS[2]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  blocked (0|1)
-- ARGV[2]  events channel
-- ARGV[3]  room event JSON up to the room hash
-- ARGV[4]  admin log length kept (approximately)
--
-- Returns the flat room hash, or an empty array when the room does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('HSET', KEYS[1], 'blocked', ARGV[1])
local hash = redis.call('HGETALL', KEYS[1])
local ev = ARGV[3] .. cjson.encode(hash) .. '}'
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'e', ev) .. ev)
return hash
