-- Block or unblock a room's visitor, and publish the room event.
--
-- KEYS[1]  room hash
--
-- ARGV[1]  blocked (0|1)
-- ARGV[2]  events channel
-- ARGV[3]  room event JSON up to the room hash
--
-- Returns the flat room hash, or an empty array when the room does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('HSET', KEYS[1], 'blocked', ARGV[1])
local hash = redis.call('HGETALL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. cjson.encode(hash) .. '}')
return hash
