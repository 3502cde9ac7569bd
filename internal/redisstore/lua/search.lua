-- Find the rooms that have every term of a search, newest first: walk the
-- rarest term's zset from its newest entry and keep the rooms that the
-- other terms' zsets hold too, until enough are found or the bound of work
-- is reached, whatever the size of the index. A room found whose hash is
-- gone (it expired and the sweeper has not come by yet) is skipped and
-- taken out of these zsets.
--
-- KEYS[1..n] one search term zset per term (room id -> ms of its latest hit)
--
-- ARGV[1]  how many rooms to return at most
-- ARGV[2]  how many entries of the rarest zset to look at at most
-- ARGV[3]  what every room hash's key starts with (the id and '}' follow)
--
-- Returns {rarest, stopped, id1, score1, id2, score2, ...}: rarest is the
-- index in KEYS of the smallest zset, stopped 1 when the bound of work ended
-- the walk before the zset did.
local n = #KEYS
local want, budget, roomKey = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local cards, order = {}, {}
for i = 1, n do
  cards[i] = redis.call('ZCARD', KEYS[i])
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
  local items = redis.call('ZREVRANGE', KEYS[rare], start, start + chunk - 1, 'WITHSCORES')
  if #items == 0 then
    break
  end
  start = start + #items / 2
  for j = 1, #items, 2 do
    local id = items[j]
    looked = looked + 1
    local all = true
    for k = 2, n do
      if not redis.call('ZSCORE', KEYS[order[k]], id) then
        all = false
        break
      end
    end
    if all then
      if redis.call('EXISTS', roomKey .. id .. '}') == 1 then
        out[#out + 1] = id
        out[#out + 1] = items[j + 1]
        hits = hits + 1
      else
        for i = 1, n do
          redis.call('ZREM', KEYS[i], id)
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
