-- Finish a failed attempt and schedule the next one, on Redis's clock:
-- the entry leaves the stream, the mail waits in the retry set until
-- mailpromote.lua queues it again.
--
-- KEYS[1]  the queue stream
-- KEYS[2]  the mail's hash
-- KEYS[3]  the retry sorted set (mail id -> when, ms)
--
-- ARGV[1]  consumer group
-- ARGV[2]  stream entry id
-- ARGV[3]  mail id
-- ARGV[4]  delay before the next attempt (ms), Go's backoff decision
-- ARGV[5]  why this attempt failed
--
-- Returns the number of failed attempts, or 0 when the hash is gone
-- (expired): then nothing is scheduled.
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'state', 'retry', 'reason', ARGV[5], 'updatedAt', now)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[3])
return n
