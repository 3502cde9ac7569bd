-- Block or unblock a room's visitor.
-- KEYS: 1 room hash
-- ARGV: 1 blocked (0|1)
-- Returns the flat room hash, or an empty array when the room does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('HSET', KEYS[1], 'blocked', ARGV[1])
return redis.call('HGETALL', KEYS[1])
