-- Create a room: its hash (with the TTL) and its index entry, together, and
-- publish the room event. A verified identity's room is created only while no
-- live room holds the identity, and the identity's index then names it.
--
-- KEYS[1]  room hash
-- KEYS[2]  rooms index (zset: room id -> updatedAt)
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
-- KEYS[4]  open index (a new room is open and unassigned: see inbox.lua)
-- KEYS[5]  unassigned index
-- KEYS[6]  identity index entry (a string: room id), or the same as KEYS[1]
--          for a room of no verified identity
--
-- ARGV[1]  room id (the member of the index)
-- ARGV[2]  visitor name
-- ARGV[3]  visitor email
-- ARGV[4]  page
-- ARGV[5]  createdAt (ms)
-- ARGV[6]  ttl (ms, 0 = none)
-- ARGV[7]  events channel
-- ARGV[8]  room event JSON up to the room hash
-- ARGV[9]  client key of the visitor's address (Go never sends it to a client)
-- ARGV[10] admin log length kept (approximately)
-- ARGV[11] identity hash ('' = none: KEYS[6] is not used)
-- ARGV[12] the site's user id ('' = none; verified with ARGV[11], else only
--          claimed)
-- ARGV[13] prefix of room hashes (+ id + '}'), to tell whether the room the
--          identity index names still exists
--
-- Search index (the block at the end; see docs/ARCHITECTURE.md, Search):
-- KEYS[7]  terms hash of the room (term -> where its latest hit is)
-- KEYS[8]  search rooms index (zset: room id -> updatedAt)
-- KEYS[9..] one search term zset per term of the visitor's name and email
-- ARGV[14] ttl of the terms hash (ms, 0 = none): the room's and a grace
-- ARGV[15..] the terms, in the order of KEYS[9..]
--
-- Returns 1, 0 when the id is taken, or the id of the room that holds the
-- identity already (nothing is stored).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if ARGV[11] ~= '' then
  local holder = redis.call('GET', KEYS[6])
  if holder and redis.call('EXISTS', ARGV[13] .. holder .. '}') == 1 then
    return holder
  end
end
redis.call('HSET', KEYS[1],
  'name', ARGV[2], 'email', ARGV[3], 'page', ARGV[4],
  'createdAt', ARGV[5], 'updatedAt', ARGV[5],
  'seq', '0', 'firstSeq', '1', 'unread', '0', 'visitorUnread', '0',
  'adminRead', '0', 'visitorRead', '0', 'blocked', '0',
  'lastSeq', '0', 'lastSender', '', 'lastContent', '', 'lastAt', '0',
  'client', ARGV[9], 'status', 'open')
if ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'userId', ARGV[12])
end
local ttl = tonumber(ARGV[6])
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[1], 'verified', '1', 'identity', ARGV[11])
  if ttl > 0 then
    redis.call('SET', KEYS[6], ARGV[1], 'PX', ttl)
  else
    redis.call('SET', KEYS[6], ARGV[1])
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])

-- Search index: the visitor's name and email ('v').
do
  local K, A = 7, 14
  local hset = {'HSET', KEYS[K]}
  for i = K + 2, #KEYS do
    hset[#hset + 1] = ARGV[A + i - K - 1]
    hset[#hset + 1] = 'v'
    redis.call('ZADD', KEYS[i], ARGV[5], ARGV[1])
  end
  if #hset > 2 then
    redis.call(unpack(hset))
    if tonumber(ARGV[A]) > 0 then
      redis.call('PEXPIRE', KEYS[K], ARGV[A])
    end
  end
  redis.call('ZADD', KEYS[K + 1], ARGV[5], ARGV[1])
end

local ev = ARGV[8] .. cjson.encode(redis.call('HGETALL', KEYS[1])) .. '}'
redis.call('PUBLISH', ARGV[7], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[10], '*', 'e', ev) .. ev)
return 1
