-- One page of one partition's room index, most recently updated first, and
-- the sizes of the partition's inbox views; ties on the score are ordered by
-- id, descending, as ZREVRANGE orders them. Which index to page through (all
-- rooms, the unread ones, a status, the unassigned, an agent's, a label's)
-- is the caller's choice. Go runs it on every partition in one pipeline and
-- merges the pages (index.go).
--
-- KEYS[1]  rooms index (zset: room id -> updatedAt)
-- KEYS[2]  unread index (same scores, rooms with unread > 0)
-- KEYS[3]  the index to page through (one of these, or a label's)
-- KEYS[4]  open index
-- KEYS[5]  pending index
-- KEYS[6]  resolved index
-- KEYS[7]  unassigned index
-- KEYS[8]  the calling agent's index (open rooms assigned to them)
-- KEYS[9]  the views' sizes (hash; lua/place.lua keeps it)
--
-- ARGV[1]  cutoff score ('' = no TTL): when the rooms index has an entry
--          below it (a room expired), such entries are removed from every
--          index named (and the sizes with them); an index not named keeps
--          its own until it is named or the reconciler tombstones the room.
--          One check, not eight, on most calls.
-- ARGV[2]  how many to return (0: only the counts)
-- ARGV[3]  cursor score ('' = first page)
-- ARGV[4]  cursor id
-- ARGV[5]  the calling agent's username (its size's field: agent:USERNAME)
--
-- Returns {all, unread, mine, unassigned, open, pending, resolved, id1,
-- score1, id2, score2, ...}.
local fields = {'all', 'unread', nil, 'open', 'pending', 'resolved', 'unassigned', 'agent:' .. ARGV[5]}
if ARGV[1] ~= '' then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  if oldest and tonumber(oldest) < tonumber(ARGV[1]) then
    for _, i in ipairs({1, 2, 4, 5, 6, 7, 8, 3}) do
      local n = redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[1])
      if n > 0 and fields[i] and redis.call('HINCRBY', KEYS[9], fields[i], -n) <= 0 then
        redis.call('HDEL', KEYS[9], fields[i])
      end
    end
  end
end
local key = KEYS[3]
local n = tonumber(ARGV[2])
local c = redis.call('HMGET', KEYS[9], 'all', 'unread', fields[8], 'unassigned', 'open', 'pending', 'resolved')
local out = {}
for i = 1, 7 do
  out[i] = tonumber(c[i] or '0')
end
local counts = #out
if n == 0 then
  return out
end
local function add(items)
  for i = 1, #items do
    out[#out + 1] = items[i]
  end
end

if ARGV[3] == '' then
  add(redis.call('ZREVRANGE', key, 0, n - 1, 'WITHSCORES'))
  return out
end
local s, id = ARGV[3], ARGV[4]
local cur = redis.call('ZSCORE', key, id)
if cur and tonumber(cur) == tonumber(s) then
  -- The cursor room has not moved: continue right after it.
  local rank = redis.call('ZREVRANK', key, id)
  add(redis.call('ZREVRANGE', key, rank + 1, rank + n, 'WITHSCORES'))
  return out
end
-- The cursor room moved or is gone (or is in another partition): the rest
-- of its score group, then the lower scores.
local same = redis.call('ZRANGEBYSCORE', key, s, s)
for i = #same, 1, -1 do
  if (#out - counts) / 2 >= n then
    return out
  end
  if same[i] < id then
    out[#out + 1] = same[i]
    out[#out + 1] = s
  end
end
local need = n - (#out - counts) / 2
if need > 0 then
  add(redis.call('ZREVRANGEBYSCORE', key, '(' .. s, '-inf', 'WITHSCORES', 'LIMIT', 0, need))
end
return out
