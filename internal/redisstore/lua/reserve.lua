-- Reserve one attempt that counts only if it fails (a login): count it now
-- in every sliding window and in the backoff log, all or nothing, so that
-- concurrent attempts cannot overrun a limit; release.lua takes it back when
-- it succeeds. A refused attempt is counted nowhere.
--
-- The store calls it with one log per call (a window: n = 1; the backoff
-- log: n = 0), each its own Cluster slot, and takes the attempt back out of
-- the logs that counted it when another refused (limit.go).
--
-- KEYS[i]          the log zset of window i, for i = 1 .. ARGV[3]
-- KEYS[ARGV[3]+1]  the backoff log zset, when the backoff length is not 0
--
-- ARGV[1]          now (ms)
-- ARGV[2]          unique member for this attempt
-- ARGV[3]          n, the number of windows
-- ARGV[2+2i]       window i's length (ms)
-- ARGV[3+2i]       window i's limit
-- ARGV[4+2n]       backoff length (ms: attempts older leave its log); 0 none
-- ARGV[5+2n]       backoff: attempts logged before any wait
-- ARGV[6+2n] ...   backoff: the wait (ms) after the last attempt once the log
--                  holds free, free+1, ... attempts; the last one repeats
--
-- Returns {allowed (0|1), limit, remaining, reset (ms: when the attempt would
-- be accepted)}: when refused, of the window or backoff that frees up last
-- (the backoff's limit is its free count); when accepted, {1, 0, 0, 0}.
local now, member, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local refused = nil
local function refuse(limit, reset)
  if refused == nil or reset > refused[4] then
    refused = {0, limit, 0, reset}
  end
end
for i = 1, n do
  local win, lim = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)
  if redis.call('ZCARD', KEYS[i]) >= lim then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    refuse(lim, tonumber(oldest[2]) + win)
  end
end
local b = 4 + 2 * n
local blen = tonumber(ARGV[b])
local blog = KEYS[n + 1]
if blen > 0 then
  local free = tonumber(ARGV[b + 1])
  redis.call('ZREMRANGEBYSCORE', blog, '-inf', now - blen)
  local logged = redis.call('ZCARD', blog)
  if logged >= free then
    local waits = #ARGV - b - 1
    local wait = tonumber(ARGV[b + 1 + math.min(logged - free + 1, waits)])
    local last = redis.call('ZRANGE', blog, -1, -1, 'WITHSCORES')
    local free_at = tonumber(last[2]) + wait
    if free_at > now then
      refuse(free, free_at)
    end
  end
end
if refused then
  return refused
end
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
end
if blen > 0 then
  redis.call('ZADD', blog, now, member)
  redis.call('PEXPIRE', blog, blen)
end
return {1, 0, 0, 0}
