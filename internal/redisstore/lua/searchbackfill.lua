-- Index a room stored before the search index existed (its visitor's
-- details and the messages it still has), without undoing what the room
-- scripts indexed since: a score only goes up, a term's place is only set
-- where it has none.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
-- KEYS[3]  search rooms index (zset: room id -> updatedAt)
-- KEYS[4..] one search term zset per term
--
-- ARGV[1]  room id
-- ARGV[2]  how long the terms hash outlives the room (ms)
-- ARGV[3..] for each of KEYS[4..]: the term, where ("m<seq>", "v"), its time (ms)
--
-- Returns 1, or 0 when the room does not exist (nothing is indexed).
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then
  return 0
end
for i = 4, #KEYS do
  local j = 3 + 3 * (i - 4)
  redis.call('ZADD', KEYS[i], 'GT', ARGV[j + 2], ARGV[1])
  redis.call('HSETNX', KEYS[2], ARGV[j], ARGV[j + 1])
end
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl + tonumber(ARGV[2]))
end
local at = redis.call('HGET', KEYS[1], 'updatedAt')
if at then
  redis.call('ZADD', KEYS[3], 'GT', at, ARGV[1])
end
return 1
