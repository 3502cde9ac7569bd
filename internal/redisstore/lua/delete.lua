-- Delete every key of a room, its index entries, and tell every instance.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list
-- KEYS[3]  dedup hash
-- KEYS[4]  senders string
-- KEYS[5]  rooms index
-- KEYS[6]  unread index
-- KEYS[7]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  room id (the member of the indexes)
-- ARGV[2]  events channel
-- ARGV[3]  room.deleted event JSON
-- ARGV[4]  refuse when the room is blocked (0|1)
-- ARGV[5]  admin log length kept (approximately)
--
-- Search index (the block before the publish; see docs/ARCHITECTURE.md):
-- KEYS[8]  terms hash of the room (term -> where its latest hit is)
-- KEYS[9]  search rooms index
-- ARGV[6]  what every search term zset's key starts with (+ the term)
--
-- Returns 1, 0 when the room did not exist (stale index entries are removed
-- all the same), or -1 when it is blocked and ARGV[4] refuses that (nothing
-- is removed). The room's blocked marker is not a key of the room: it stays.
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'blocked') == '1' then
  return -1
end
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])

-- Search index: the room leaves the zset of every term it has.
do
  local K, A = 8, 6
  local terms = redis.call('HKEYS', KEYS[K])
  for i = 1, #terms do
    redis.call('ZREM', ARGV[A] .. terms[i], ARGV[1])
  end
  redis.call('DEL', KEYS[K])
  redis.call('ZREM', KEYS[K + 1], ARGV[1])
end

if existed == 0 then
  return 0
end
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[3]) .. ARGV[3])
return 1
