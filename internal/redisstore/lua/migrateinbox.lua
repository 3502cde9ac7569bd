-- Give a room stored before the team inbox existed its status (open) and
-- place it in the open and unassigned indexes; a room that has a status
-- already is left as it is, so running this twice, or beside the scripts
-- that set statuses, changes nothing more.
--
-- KEYS[1]  room hash
-- KEYS[2]  open index
-- KEYS[3]  unassigned index
--
-- ARGV[1]  room id
--
-- Returns 1 when the room was placed, 0 otherwise.
local h = redis.call('HMGET', KEYS[1], 'updatedAt', 'status')
if not h[1] or h[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'open')
redis.call('ZADD', KEYS[2], h[1], ARGV[1])
redis.call('ZADD', KEYS[3], h[1], ARGV[1])
return 1
