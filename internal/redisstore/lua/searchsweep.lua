-- Take one room out of the search index if it expired; the sweeper runs it
-- for each room of the search rooms index whose score is past the room TTL.
-- Idempotent, so any number of instances may sweep at once.
--
-- KEYS[1]  room hash
-- KEYS[2]  terms hash of the room (term -> where its latest hit is)
-- KEYS[3]  search rooms index (zset: room id -> updatedAt)
--
-- ARGV[1]  room id
-- ARGV[2]  what every search term zset's key starts with (+ the term)
-- ARGV[3]  now minus the room TTL (ms): the score a room expiring now has
-- ARGV[4]  how long the terms hash outlives the room (ms)
--
-- Returns 1 when the room was gone and left the index, 0 when it is still
-- there (it is scored again by when it expires, its terms kept beyond it).
local pttl = redis.call('PTTL', KEYS[1])
if pttl ~= -2 then
  -- Still there: its TTL was refreshed by something that did not update the
  -- index, or it never expires. Look again when it would expire.
  local at = tonumber(ARGV[3])
  if pttl > 0 then
    at = at + pttl
    redis.call('PEXPIRE', KEYS[2], pttl + tonumber(ARGV[4]))
  else
    at = at + 24 * 3600 * 1000
  end
  redis.call('ZADD', KEYS[3], at, ARGV[1])
  return 0
end
local terms = redis.call('HKEYS', KEYS[2])
for i = 1, #terms do
  redis.call('ZREM', ARGV[2] .. terms[i], ARGV[1])
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
