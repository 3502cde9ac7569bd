-- Index the messages of one room that the indexer read from the admin log
-- (indexer.go): their terms point at the room, scored by the latest
-- message with each, and at that message. Idempotent and order-safe:
-- scores only rise (ZADD GT), so indexing a batch again, or late, changes
-- nothing; a room deleted meanwhile is not indexed again.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
-- KEYS[3]  search rooms index (zset: room id -> latest activity, ms)
-- KEYS[4..] one search term zset per term
--
-- ARGV[1]  room id
-- ARGV[2]  the latest message's time (ms)
-- ARGV[3]  ttl of the terms hash (ms, 0 = none): the room's and a grace
-- ARGV[4..] per term of KEYS[4..], three arguments: the term, where its
--           latest hit is ('m' .. seq), and that message's time (ms)
--
-- Returns 1, or 0 when the room is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local hset = {'HSET', KEYS[2]}
for i = 4, #KEYS do
  local a = 4 + 3 * (i - 4)
  redis.call('ZADD', KEYS[i], 'GT', ARGV[a + 2], ARGV[1])
  hset[#hset + 1] = ARGV[a]
  hset[#hset + 1] = ARGV[a + 1]
end
if #hset > 2 then
  redis.call(unpack(hset))
end
redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[1])
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
