-- Admin presence, on Redis's clock (instances' clocks may differ).
-- KEYS: 1 presence zset (instance -> expiry of its last heartbeat, ms)
-- ARGV: 1 instance ('' = only count), 2 open admin streams, 3 ttl (ms)
-- Drops the heartbeats that have run out; records the instance's (or
-- removes it when it has no admin stream open). Returns how many instances
-- have a live heartbeat.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
if ARGV[1] ~= '' then
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now)
  if tonumber(ARGV[2]) > 0 then
    redis.call('ZADD', key, now + tonumber(ARGV[3]), ARGV[1])
  else
    redis.call('ZREM', key, ARGV[1])
  end
end
return redis.call('ZCOUNT', key, '(' .. now, '+inf')
