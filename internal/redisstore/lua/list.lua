-- One page of the room index, most recently updated first; ties on the score
-- are ordered by id, descending, as ZREVRANGE orders them.
-- KEYS: 1 rooms index, 2 unread index
-- ARGV: 1 filter (all|unread), 2 cutoff score ('' = no TTL): entries below it
--       are removed first, 3 how many to return, 4 cursor score ('' = first
--       page), 5 cursor id
-- Returns {unread rooms count, id1, score1, id2, score2, ...}.
if ARGV[2] ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])
end
local key = KEYS[1]
if ARGV[1] == 'unread' then
  key = KEYS[2]
end
local n = tonumber(ARGV[3])
local out = {redis.call('ZCARD', KEYS[2])}
local function add(items)
  for i = 1, #items do
    out[#out + 1] = items[i]
  end
end

if ARGV[4] == '' then
  add(redis.call('ZREVRANGE', key, 0, n - 1, 'WITHSCORES'))
  return out
end
local s, id = ARGV[4], ARGV[5]
local cur = redis.call('ZSCORE', key, id)
if cur and tonumber(cur) == tonumber(s) then
  -- The cursor room has not moved: continue right after it.
  local rank = redis.call('ZREVRANK', key, id)
  add(redis.call('ZREVRANGE', key, rank + 1, rank + n, 'WITHSCORES'))
  return out
end
-- The cursor room moved or is gone: the rest of its score group, then the
-- lower scores.
local same = redis.call('ZRANGEBYSCORE', key, s, s)
for i = #same, 1, -1 do
  if (#out - 1) / 2 >= n then
    return out
  end
  if same[i] < id then
    out[#out + 1] = same[i]
    out[#out + 1] = s
  end
end
local need = n - (#out - 1) / 2
if need > 0 then
  add(redis.call('ZREVRANGEBYSCORE', key, '(' .. s, '-inf', 'WITHSCORES', 'LIMIT', 0, need))
end
return out
