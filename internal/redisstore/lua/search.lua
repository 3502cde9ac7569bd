-- One step of a search's walk of one index partition: the rooms that have
-- every term, newest first. It walks the rarest term's zset from a rank on
-- and keeps the rooms that the other terms' zsets hold too, until it has
-- found enough or looked at enough entries; Go runs it on every partition
-- in one pipeline, merges the hits, and asks again only the partitions
-- whose walk stopped above the page's last hit (search.go), so the whole
-- search looks at about what one walk of a global index would. Every key
-- is the partition's (one Cluster slot). A room found that the partition
-- has a tombstone for (deleted, its entries not yet taken out) is skipped
-- and taken out of these zsets; one whose hash is gone otherwise (expired,
-- the sweeper has not come by yet) is skipped by Go, which reads every
-- hit's room.
--
-- KEYS[1]  the partition's placements hash (room id -> placement or "D|…")
-- KEYS[2..n+1] one term zset of the partition per term (room id -> ms of
--          its latest hit)
--
-- ARGV[1]  how many rooms to return at most
-- ARGV[2]  how many entries of the rarest zset to look at at most
-- ARGV[3]  the rank in the rarest zset to start at (0: its newest entry)
-- ARGV[4]  which term is the rarest (1..n), as the first step said; 0 on
--          the first step: the smallest zset
--
-- Returns {rarest, next, done, looked, last, id1, score1, id2, score2, ...}:
-- rarest is the term walked (1..n), next the rank to go on from, done 1
-- when the walk reached the zset's end (or a term has no room here),
-- looked how many entries it looked at, last the score of the last one
-- ('' when none): every entry above it was looked at.
local place = KEYS[1]
local T = {}
for i = 2, #KEYS do
  T[i - 1] = KEYS[i]
end
local n = #T
local want, walk, start, rare = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cards, order = {}, {}
for i = 1, n do
  cards[i] = redis.call('ZCARD', T[i])
  if cards[i] == 0 then
    return {i, 0, 1, 0, ''}
  end
  order[i] = i
end
-- The rarest first: it is walked; the others are checked rarest first, so
-- a candidate most often fails on its first check.
table.sort(order, function(a, b) return cards[a] < cards[b] end)
if rare < 1 or rare > n then
  rare = order[1]
end
local others = {}
for _, i in ipairs(order) do
  if i ~= rare then
    others[#others + 1] = T[i]
  end
end

local out = {rare, 0, 0, 0, ''}
local hits, looked, pos, card = 0, 0, start, cards[rare]
local last = ''
while hits < want and looked < walk and pos < card do
  local chunk = walk - looked
  if n == 1 then
    chunk = math.min(chunk, want - hits)
  end
  local items = redis.call('ZREVRANGE', T[rare], pos, pos + chunk - 1, 'WITHSCORES')
  if #items == 0 then
    break
  end
  for j = 1, #items, 2 do
    local id = items[j]
    looked = looked + 1
    last = items[j + 1]
    pos = pos + 1
    local all = true
    for k = 1, #others do
      if not redis.call('ZSCORE', others[k], id) then
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
        pos = pos - 1 -- the entries after it moved up by one
        card = card - 1
      end
    end
    if hits >= want or looked >= walk then
      break
    end
  end
end
out[2] = pos
if pos >= card then
  out[3] = 1
end
out[4] = looked
out[5] = last
return out
