-- Delete every key of a room, its index entries, and tell every instance.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list
-- KEYS[3]  dedup hash
-- KEYS[4]  senders string
-- KEYS[5]  rooms index
-- KEYS[6]  unread index
-- KEYS[7]  admin event log (a capped stream; the publish carries its entry id)
-- KEYS[8]  open index
-- KEYS[9]  pending index
-- KEYS[10] resolved index
-- KEYS[11] unassigned index
-- KEYS[12] snoozed set
-- KEYS[13] notes list
--
-- ARGV[1]  room id (the member of the indexes)
-- ARGV[2]  events channel
-- ARGV[3]  room.deleted event JSON
-- ARGV[4]  refuse when the room is blocked (0|1)
-- ARGV[5]  admin log length kept (approximately)
-- ARGV[6]  prefix of the agents' indexes (+ username)
-- ARGV[7]  prefix of the labels' indexes (+ label id)
-- ARGV[8]  prefix of the identity index (+ the room's identity hash): the
--          entry is deleted while it still names this room, unless the room
--          is blocked (the entry then leads the user to the blocked marker,
--          not to a new room)
--
-- Search index (the block before the publish; see docs/ARCHITECTURE.md):
-- KEYS[14] terms hash of the room (term -> where its latest hit is)
-- KEYS[15] search rooms index
-- ARGV[9]  what every search term zset's key starts with (+ the term)
--
-- Attachments:
-- KEYS[16] the room's attachments hash
-- KEYS[17] the room's pending attachments zset
-- KEYS[18] attachment sweep zset: a room that had files is due at once, so
--          their bytes go even if this instance stops before it deletes them
-- Who the visitor is (deleted with the room):
-- KEYS[19] visitor pages list
-- KEYS[20] visitor info hash
--
-- Returns 1, 0 when the room did not exist (stale index entries are removed
-- all the same), or -1 when it is blocked and ARGV[4] refuses that (nothing
-- is removed). The room's blocked marker is not a key of the room: it stays.
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'blocked') == '1' then
  return -1
end
local existed = redis.call('EXISTS', KEYS[1])
local h = redis.call('HMGET', KEYS[1], 'assignee', 'labels', 'identity', 'blocked')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[13])
for i = 5, 12 do
  if i ~= 7 then
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
if h[1] then
  redis.call('ZREM', ARGV[6] .. h[1], ARGV[1])
end
for x in string.gmatch(h[2] or '', '[^,]+') do
  redis.call('ZREM', ARGV[7] .. x, ARGV[1])
end

-- Search index: the room leaves the zset of every term it has.
do
  local K, A = 14, 9
  local terms = redis.call('HKEYS', KEYS[K])
  for i = 1, #terms do
    redis.call('ZREM', ARGV[A] .. terms[i], ARGV[1])
  end
  redis.call('DEL', KEYS[K])
  redis.call('ZREM', KEYS[K + 1], ARGV[1])
end

if redis.call('EXISTS', KEYS[16]) == 1 or redis.call('ZSCORE', KEYS[18], ARGV[1]) then
  redis.call('DEL', KEYS[16], KEYS[17])
  redis.call('ZADD', KEYS[18], 0, ARGV[1])
end
redis.call('DEL', KEYS[19], KEYS[20])

if h[3] and h[4] ~= '1' and redis.call('GET', ARGV[8] .. h[3]) == ARGV[1] then
  redis.call('DEL', ARGV[8] .. h[3])
end
if existed == 0 then
  return 0
end
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[3]) .. ARGV[3])
return 1
