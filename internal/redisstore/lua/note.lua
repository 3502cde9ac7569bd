-- Store an agent's private note in a room, point its words at it in the
-- room's terms hash (the partition's search sets follow: lua/searchput.lua),
-- and publish it to the admin streams only. The notes list lives as long as the
-- room: it takes the room's remaining TTL (and every send refreshes both).
--
-- KEYS[1]  room hash
-- KEYS[2]  notes list (note JSON, oldest first)
-- KEYS[3]  the room's outbox (its newest events, for the follow-up)
-- KEYS[4]  terms hash of the room (term -> where its latest hit is)
--
-- ARGV[1]  note JSON
-- ARGV[2]  most notes a room may have
-- ARGV[3]  events channel
-- ARGV[4]  note event JSON
-- ARGV[5]  unused (was the admin log's length)
-- ARGV[6]  room id
-- ARGV[7]  the note's time (ms): its terms' score
-- ARGV[8]  how long the terms hash outlives the room (ms)
-- ARGV[9..] the terms of the note
--
-- Returns {position, event}: the note event ("n:t:p|JSON" for the follow-up)
-- and the note's position in the list (1-based: the search index's
-- "n<k>", so the list only grows), 0 (alone) when the room does not exist, -1 when
-- it has the most notes already.

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  return 0
end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  return -1
end
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end

-- Search index: the note's terms point at it.
local hset = {'HSET', KEYS[4]}
for i = 9, #ARGV do
  hset[#hset + 1] = ARGV[i]
  hset[#hset + 1] = 'n' .. n
end
if #hset > 2 then
  redis.call(unpack(hset))
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[4], ttl + tonumber(ARGV[8]))
  end
end

return {n, emit(KEYS[1], KEYS[3], ARGV[4])}
