-- Delete every key of a room, its index entries, and tell every instance.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list
-- KEYS[3]  dedup hash
-- KEYS[4]  senders string
-- KEYS[5]  rooms index
-- KEYS[6]  unread index
--
-- ARGV[1]  room id (the member of the indexes)
-- ARGV[2]  events channel
-- ARGV[3]  room.deleted event JSON
--
-- Returns 1, or 0 when the room did not exist (stale index entries are
-- removed all the same).
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
if existed == 0 then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
