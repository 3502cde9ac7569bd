-- Read a page of a room's messages by seq, with index arithmetic on the list.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list (element i holds seq firstSeq+i)
--
-- ARGV[1]  after: the page starts after this seq
-- ARGV[2]  before (0 = unused): the page ends before this seq, and wins
-- ARGV[3]  limit
--
-- Returns {-1} when the room does not exist, else {hasMore (0|1), msg...}.
local h = redis.call('HMGET', KEYS[1], 'seq', 'firstSeq')
if not h[1] then
  return {-1}
end
local last, first = tonumber(h[1]), tonumber(h[2])
local after, before, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local lo, hi, more
if before > 0 then
  hi = math.min(before - 1, last)
  lo = math.max(hi - limit + 1, first)
  more = lo > first
else
  lo = math.max(after + 1, first)
  hi = math.min(lo + limit - 1, last)
  more = hi < last
end
if lo > hi then
  return {0}
end
local out = {more and 1 or 0}
local items = redis.call('LRANGE', KEYS[2], lo - first, hi - first)
for i = 1, #items do
  out[i + 1] = items[i]
end
return out
