-- Index the terms of one note of a room (or of anything else of the room
-- that is not a message: the send script indexes those itself): each term
-- points at it, and the room is found by them.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
-- KEYS[3]  search rooms index (zset: room id -> updatedAt)
-- KEYS[4..] one search term zset per term
--
-- ARGV[1]  room id
-- ARGV[2]  where the terms are ("n<k>": the k-th note)
-- ARGV[3]  its time (ms): the terms' score
-- ARGV[4]  how long the terms hash outlives the room (ms)
-- ARGV[5..] the terms, in the order of KEYS[4..]
--
-- Returns 1, or 0 when the room does not exist (nothing is indexed).
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then
  return 0
end
local hset = {'HSET', KEYS[2]}
for i = 4, #KEYS do
  hset[#hset + 1] = ARGV[i + 1]
  hset[#hset + 1] = ARGV[2]
  redis.call('ZADD', KEYS[i], ARGV[3], ARGV[1])
end
if #hset > 2 then
  redis.call(unpack(hset))
  if pttl > 0 then
    redis.call('PEXPIRE', KEYS[2], pttl + tonumber(ARGV[4]))
  end
end
redis.call('ZADD', KEYS[3], 'NX', redis.call('HGET', KEYS[1], 'updatedAt'), ARGV[1])
return 1
