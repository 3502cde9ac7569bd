-- The partition's step of taking one room out of the search index (a
-- delete, or the sweeper once the room expired): the room leaves the term
-- zsets its terms hash named (read by the room's step: delete.lua,
-- searchsweep.lua) and the partition's search rooms. Every key is the
-- partition's; idempotent.
--
-- KEYS[1]  the partition's search rooms (zset)
-- KEYS[2..] one term zset of the partition per term of the room
--
-- ARGV[1]  room id
--
-- Returns 1.
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return 1
