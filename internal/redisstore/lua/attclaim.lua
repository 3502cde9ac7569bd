-- Claim the rooms whose attachment sweep is due: each moves lease ahead, so
-- that another instance does not sweep it meanwhile; a sweeper that stops
-- half-way leaves it due again after the lease.
--
-- KEYS[1] attachment sweep zset (room id -> when to sweep, ms)
-- ARGV[1] now (ms)
-- ARGV[2] lease (ms)
-- ARGV[3] at most this many rooms
--
-- Returns the room ids claimed.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, r in ipairs(due) do
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), r)
end
return due
