-- The partition's step of indexing one room for search: the room's terms
-- point at it in the partition's term zsets, scored by the latest activity
-- with each (ms), and the room is in the partition's search rooms (what the
-- sweeper reads). Every key is the partition's (one hash tag, one Cluster
-- slot); the room's own keys are not read: the room's step (the room
-- script, index.lua, searchbackfill.lua) has written its terms hash first,
-- and only while the room existed.
--
-- Refused for a room the partition has a tombstone for (place.lua's
-- "D|deletedAt"): a late step cannot index a deleted room again. A delete
-- tombstones the room before it takes its terms out (searchdrop.lua), so a
-- step is either refused or taken out after it. Scores only rise (ZADD GT):
-- a repeated or late step changes nothing.
--
-- KEYS[1]  the partition's placements hash (room id -> placement or "D|…")
-- KEYS[2]  the partition's search rooms (zset: room id -> updatedAt, ms)
-- KEYS[3..] one term zset of the partition per term
--
-- ARGV[1]  room id
-- ARGV[2]  the room's score in KEYS[2] (its updatedAt, ms)
-- ARGV[3]  how KEYS[2] takes it: GT (raise) or NX (only when absent)
-- ARGV[4..] the score of each term of KEYS[3..] (ms)
--
-- Returns 1, or 0 when the room is tombstoned (nothing is written).
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and string.sub(cur, 1, 2) == 'D|' then
  return 0
end
for i = 3, #KEYS do
  redis.call('ZADD', KEYS[i], 'GT', ARGV[i + 1], ARGV[1])
end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2], ARGV[1])
return 1
