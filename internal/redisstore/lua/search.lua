-- Find the rooms of one index partition that have every term of a search,
-- newest first: walk the rarest term's zset from its newest entry and keep
-- the rooms that the other terms' zsets hold too, until enough are found or
-- the bound of work is reached, whatever the size of the index. Every key
-- is the partition's (one Cluster slot); Go runs it on every partition in
-- one pipeline and merges. A room found that the partition has a tombstone
-- for (deleted, its entries not yet taken out) is skipped and taken out of
-- these zsets; one whose hash is gone otherwise (expired, the sweeper has
-- not come by yet) is skipped by Go, which reads every hit's room.
--
-- KEYS[1]  the partition's placements hash (room id -> placement or "D|…")
-- KEYS[2..n+1] one term zset of the partition per term (room id -> ms of
--          its latest hit)
--
-- ARGV[1]  how many rooms to return at most
-- ARGV[2]  how many entries of the rarest zset to look at at most
--
-- Returns {rarest, stopped, id1, score1, id2, score2, ...}: rarest is the
-- index among the terms (1..n, KEYS[rarest + 1]) of the smallest zset,
-- stopped 1 when the bound of work ended
-- the walk before the zset did.
local place = KEYS[1]
local T = {}
for i = 2, #KEYS do
  T[i - 1] = KEYS[i]
end
local n = #T
local want, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
local cards, order = {}, {}
for i = 1, n do
  cards[i] = redis.call('ZCARD', T[i])
  if cards[i] == 0 then
    return {i, 0}
  end
  order[i] = i
end
-- The rarest first: it is walked; the others are checked rarest first, so
-- a candidate most often fails on its first check.
table.sort(order, function(a, b) return cards[a] < cards[b] end)
local rare, card = order[1], cards[order[1]]

local out = {rare, 0}
local hits, looked, start = 0, 0, 0
local chunk = want
if n > 1 then
  chunk = math.min(budget, math.max(4 * want, 200))
end
while hits < want and looked < budget and start < card do
  local items = redis.call('ZREVRANGE', T[rare], start, start + chunk - 1, 'WITHSCORES')
  if #items == 0 then
    break
  end
  start = start + #items / 2
  for j = 1, #items, 2 do
    local id = items[j]
    looked = looked + 1
    local all = true
    for k = 2, n do
      if not redis.call('ZSCORE', T[order[k]], id) then
        all = false
        break
      end
    end
    if all then
      local cur = redis.call('HGET', place, id)
      if not (cur and string.sub(cur, 1, 2) == 'D|') then
        out[#out + 1] = id
        out[#out + 1] = items[j + 1]
        hits = hits + 1
      else
        for i = 1, n do
          redis.call('ZREM', T[i], id)
        end
        start = start - 1 -- the entries after it moved up by one
        card = card - 1
      end
    end
    if hits >= want or looked >= budget then
      break
    end
  end
end
if hits < want and looked >= budget and start < card then
  out[2] = 1
end
return out
