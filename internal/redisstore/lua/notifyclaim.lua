-- Take the rooms whose notification mail is due, atomically: what one
-- instance takes is gone for every other, so each mail is decided once.
--
-- KEYS[1]  due set (zset: room id -> due time, ms)
--
-- ARGV[1]  now (ms)
-- ARGV[2]  most rooms taken
--
-- Returns the room ids taken.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids > 0 then
  redis.call('ZREM', KEYS[1], unpack(ids))
end
return ids
