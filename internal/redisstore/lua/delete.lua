-- Delete every key of a room, its index entries, and tell every instance.
-- KEYS: 1 room hash, 2 msgs list, 3 dedup hash, 4 rooms index, 5 unread index
-- ARGV: 1 room id, 2 events channel, 3 event JSON
-- Returns 1, or 0 when the room did not exist (stale index entries are
-- removed all the same).
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if existed == 0 then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
