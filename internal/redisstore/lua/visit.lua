-- Count one page view of a day: its views, its distinct visitors
-- (HyperLogLog) and its views of the path, all keys of the day's slot
-- (RecordVisit increments the all-time total beside it). A day
-- keeps at most ARGV[4] distinct paths; views of further new paths count
-- under "(other)", so a client inventing paths cannot grow Redis without end.
--
-- KEYS[1]  the day's views counter
-- KEYS[2]  the day's visitors (HyperLogLog)
-- KEYS[3]  the day's paths (zset: path -> views)
--
-- ARGV[1]  visitor id
-- ARGV[2]  path
-- ARGV[3]  ttl of the day's keys (ms)
-- ARGV[4]  max distinct paths a day
--
-- Returns {today, visitorsToday}.
local today = redis.call('INCR', KEYS[1])
redis.call('PFADD', KEYS[2], ARGV[1])
local path = ARGV[2]
if not redis.call('ZSCORE', KEYS[3], path) and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
  path = '(other)'
end
redis.call('ZINCRBY', KEYS[3], 1, path)
for i = 1, 3 do
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return {today, redis.call('PFCOUNT', KEYS[2])}
