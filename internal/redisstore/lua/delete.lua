-- Delete every key of a room, and tell every instance. It writes only the
-- room's keys: the Go side then tombstones the room in its index
-- partition, logging its last events and room.deleted (lua/place.lua),
-- takes its terms out of the partition's search sets (lua/searchdrop.lua),
-- deletes its terms hash (kept until then, so a failed step is done again
-- by a retry) and frees its identity's entry (lua/identity.lua).
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list
-- KEYS[3]  dedup hash
-- KEYS[4]  senders string
-- KEYS[5]  the room's outbox (its newest events, for the follow-up)
-- KEYS[6]  notes list
-- KEYS[7]  terms hash of the room (term -> where its latest hit is): read
-- KEYS[8]  the room's attachments hash
-- KEYS[9]  the room's pending attachments zset
-- KEYS[10] visitor pages list
-- KEYS[11] visitor info hash
--
-- ARGV[1]  room id
-- ARGV[2]  events channel (unused: the follow-up publishes)
-- ARGV[3]  room.deleted event JSON
-- ARGV[4]  refuse when the room is blocked (0|1)
-- ARGV[5]  unused (was the admin log's length)
--
-- Returns {1, identity hash ('' = none), blocked (0|1), had files (0|1),
-- events, terms...}, events the outbox's ("n:t:p|JSON", the ones not logged
-- yet among them) and the room.deleted event numbered after them, for the
-- delete's follow-up, which logs them though the room is gone; {0, had
-- files, terms...} when the room did not exist, or {-1} when it is blocked
-- and ARGV[4] refuses that (nothing is removed); terms are the fields of
-- its terms hash. The room's blocked marker is not a
-- key of the room: it stays.
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'blocked') == '1' then
  return {-1}
end
local existed = redis.call('EXISTS', KEYS[1])
local h = redis.call('HMGET', KEYS[1], 'identity', 'blocked')
local events = redis.call('LRANGE', KEYS[5], 0, -1)
-- nextEvent is in lua/lib/emit.lua, put before this script by scripts.go.
local deleted = nextEvent(KEYS[1]) .. '|' .. ARGV[3]
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])

-- Search index: the terms the room is in, for the partition's step.
local terms = redis.call('HKEYS', KEYS[7])
local function withTerms(out)
  for i = 1, #terms do
    out[#out + 1] = terms[i]
  end
  return out
end

local files = redis.call('EXISTS', KEYS[8])
redis.call('DEL', KEYS[8], KEYS[9], KEYS[10], KEYS[11])
if existed == 0 then
  return withTerms({0, files})
end
events[#events + 1] = deleted
local blocked = '0'
if h[2] == '1' then
  blocked = '1'
end
return withTerms({1, h[1] or '', blocked, files, events})
