-- The room's step of sweeping one room out of the search index; the sweeper
-- runs it for each room of a partition's search rooms whose score is past
-- the room TTL. Idempotent, so any number of instances may sweep at once.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
--
-- ARGV[1]  how long the terms hash outlives the room (ms)
--
-- Returns {0, pttl} when the room is still there (its TTL was refreshed by
-- something that did not update the index, or it never expires: pttl -1;
-- its terms hash is given the room's TTL and the grace again), or {1, the
-- terms of its terms hash...} when it is gone: the Go side tombstones it,
-- takes those terms out of the partition (searchdrop.lua), then deletes the
-- terms hash, so a step that fails is done again by the next sweep.
local pttl = redis.call('PTTL', KEYS[1])
if pttl ~= -2 then
  if pttl > 0 then
    redis.call('PEXPIRE', KEYS[2], pttl + tonumber(ARGV[1]))
  end
  return {0, pttl}
end
local out = redis.call('HKEYS', KEYS[2])
table.insert(out, 1, 1)
return out
