-- Sliding-window-log rate limit: one zset entry per accepted request.
-- A rejected request is not recorded.
-- KEYS: 1 window zset
-- ARGV: 1 now (ms), 2 window (ms), 3 limit, 4 unique member
-- Returns {allowed (0|1), remaining, reset (ms: when the oldest entry leaves)}.
local key = KEYS[1]
local now, win, lim = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1] - win)
local n = redis.call('ZCARD', key)
local allowed = 0
if n < lim then
  redis.call('ZADD', key, ARGV[1], ARGV[4])
  redis.call('PEXPIRE', key, win)
  n = n + 1
  allowed = 1
end
local reset = now + win
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + win
end
return {allowed, lim - n, reset}
