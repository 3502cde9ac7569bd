-- The room's step of indexing a room stored before the search index existed
-- (its visitor's details and the messages it still has), without undoing
-- what the room scripts indexed since: a term's place is only set where it
-- has none. The partition's step (searchput.lua, scores only raised)
-- follows.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
--
-- ARGV[1]  how long the terms hash outlives the room (ms)
-- ARGV[2..] pairs: a term, where ("m<seq>", "v")
--
-- Returns the room's updatedAt (ms, the score of its search rooms entry),
-- or 0 when the room does not exist (nothing is written).
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
end
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl + tonumber(ARGV[1]))
end
return tonumber(redis.call('HGET', KEYS[1], 'updatedAt') or '1')
