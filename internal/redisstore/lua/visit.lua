-- Count one page view: the all-time total, the day's views, the day's
-- distinct visitors (HyperLogLog) and the day's views of the path. A day
-- keeps at most ARGV[4] distinct paths; views of further new paths count
-- under "(other)", so a client inventing paths cannot grow Redis without end.
--
-- KEYS[1]  all-time views counter
-- KEYS[2]  the day's views counter
-- KEYS[3]  the day's visitors (HyperLogLog)
-- KEYS[4]  the day's paths (zset: path -> views)
--
-- ARGV[1]  visitor id
-- ARGV[2]  path
-- ARGV[3]  ttl of the day's keys (ms)
-- ARGV[4]  max distinct paths a day
--
-- Returns {total, today, visitorsToday}.
local total = redis.call('INCR', KEYS[1])
local today = redis.call('INCR', KEYS[2])
redis.call('PFADD', KEYS[3], ARGV[1])
local path = ARGV[2]
if not redis.call('ZSCORE', KEYS[4], path) and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[4]) then
  path = '(other)'
end
redis.call('ZINCRBY', KEYS[4], 1, path)
for i = 2, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return {total, today, redis.call('PFCOUNT', KEYS[3])}
