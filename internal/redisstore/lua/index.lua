-- The room's step of indexing the messages of one room that the indexer
-- read from the admin log (indexer.go): where each term's latest hit is,
-- in the room's terms hash. Only while the room exists, so a late batch
-- cannot bring a deleted room's terms back; the partition's step
-- (searchput.lua) follows, with the terms' scores.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
--
-- ARGV[1]  ttl of the terms hash (ms, 0 = none): the room's and a grace
-- ARGV[2..] pairs: a term, where its latest hit is ('m' .. seq)
--
-- Returns 1, or 0 when the room is gone (nothing is written).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if #ARGV > 1 then
  local hset = {'HSET', KEYS[2]}
  for i = 2, #ARGV do
    hset[#hset + 1] = ARGV[i]
  end
  redis.call(unpack(hset))
  if tonumber(ARGV[1]) > 0 then
    redis.call('PEXPIRE', KEYS[2], ARGV[1])
  end
end
return 1
