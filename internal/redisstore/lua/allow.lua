-- Sliding-window-log rate limits: one zset entry per accepted request in
-- each window. A request is accepted only when every window has room, and
-- then counted in all of them; a rejected request is recorded in none.
--
-- The store calls it with one key per call (limit.go): each window's log is
-- a key of its own Cluster slot, and Go takes a request back out of the
-- windows that counted it when another refused.
--
-- KEYS[i]      the log zset of window i (one or more)
--
-- ARGV[1]      now (ms)
-- ARGV[2]      unique member for this request
-- ARGV[1+2i]   window i's length (ms)
-- ARGV[2+2i]   window i's limit
--
-- Returns {allowed (0|1), limit, remaining, reset (ms: when the oldest entry
-- leaves)} of the window that refused (the one that frees up last, when
-- several did), or else of the one with the least room left.
local now, member = tonumber(ARGV[1]), ARGV[2]
local counts = {}
for i, key in ipairs(KEYS) do
  local win = tonumber(ARGV[1 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)
  counts[i] = redis.call('ZCARD', key)
end
local function report(i, allowed)
  local win, lim = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local reset = now + win
  local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if oldest[2] then
    reset = tonumber(oldest[2]) + win
  end
  return {allowed, lim, math.max(lim - counts[i], 0), reset}
end
local refused = nil
for i = 1, #KEYS do
  if counts[i] >= tonumber(ARGV[2 + 2 * i]) then
    local r = report(i, 0)
    if refused == nil or r[4] > refused[4] then
      refused = r
    end
  end
end
if refused then
  return refused
end
local tightest, least = 1, nil
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, tonumber(ARGV[1 + 2 * i]))
  counts[i] = counts[i] + 1
  local left = tonumber(ARGV[2 + 2 * i]) - counts[i]
  if least == nil or left < least then
    tightest, least = i, left
  end
end
return report(tightest, 1)
