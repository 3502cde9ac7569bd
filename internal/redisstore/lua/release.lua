-- Take back an attempt reserve.lua counted, because it succeeded: out of
-- every window it was counted in, and its backoff log cleared (a success
-- ends the run of failures).
--
-- The store calls it once per log (n = 1 for a window, n = 0 for the
-- backoff log), each its own Cluster slot (limit.go).
--
-- KEYS[i]          the log zset of window i, for i = 1 .. ARGV[2]
-- KEYS[ARGV[2]+1]  the backoff log zset, when there is one
--
-- ARGV[1]          the attempt's member
-- ARGV[2]          n, the number of windows
--
-- Returns the number of logs it was taken out of.
local n, done = tonumber(ARGV[2]), 0
for i = 1, n do
  done = done + redis.call('ZREM', KEYS[i], ARGV[1])
end
if #KEYS > n then
  done = done + redis.call('DEL', KEYS[n + 1])
end
return done
