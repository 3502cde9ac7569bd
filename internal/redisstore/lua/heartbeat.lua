-- Record one instance's admin presence heartbeat, on Redis's clock (the
-- instances' clocks may differ), and drop the heartbeats that have run out.
--
-- KEYS[1]  presence zset (instance -> expiry of its last heartbeat, ms)
--
-- ARGV[1]  instance
-- ARGV[2]  how long the heartbeat lasts (ms); 0 removes the instance (it has
--          no admin stream open)
--
-- Returns how many instances have a live heartbeat.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key, ttl = KEYS[1], tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
if ttl > 0 then
  redis.call('ZADD', key, now + ttl, ARGV[1])
else
  redis.call('ZREM', key, ARGV[1])
end
return redis.call('ZCOUNT', key, '(' .. now, '+inf')
