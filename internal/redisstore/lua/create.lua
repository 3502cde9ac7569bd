-- Create a room: its hash (with the TTL), its terms hash and its room
-- event. It writes only the room's keys: the index, the event's log and
-- publish (lua/place.lua) and the search index's sets (lua/searchput.lua)
-- follow in the room's partition, with the placement and the event
-- returned. A verified identity's room
-- names its identity hash; the identity's entry is claimed before, in its
-- own slot (lua/identity.lua).
--
-- KEYS[1]  room hash
-- KEYS[2]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  room id
-- ARGV[2]  visitor name
-- ARGV[3]  visitor email
-- ARGV[4]  page
-- ARGV[5]  createdAt (ms)
-- ARGV[6]  ttl (ms, 0 = none)
-- ARGV[7]  events channel (unused: the follow-up publishes)
-- ARGV[8]  room event JSON up to the room hash
-- ARGV[9]  client key of the visitor's address (Go never sends it to a client)
-- ARGV[10] unused (was the admin log's length)
-- ARGV[11] identity hash ('' = none)
-- ARGV[12] the site's user id ('' = none; verified with ARGV[11], else only
--          claimed)
--
-- Search index (the block at the end; see docs/ARCHITECTURE.md, Search):
-- KEYS[3]  terms hash of the room (term -> where its latest hit is)
-- ARGV[13] ttl of the terms hash (ms, 0 = none): the room's and a grace
-- ARGV[14..] the terms of the visitor's name and email
--
-- Returns {placement, event}: the placement {ver, score, unread, status,
-- assignee, labels, snoozedUntil, sweep} (see lua/place.lua) and the room
-- event ("n:t:p|JSON", for the follow-up), or 0 when the id is taken
-- (nothing is stored).

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1],
  'name', ARGV[2], 'email', ARGV[3], 'page', ARGV[4],
  'createdAt', ARGV[5], 'updatedAt', ARGV[5],
  'seq', '0', 'firstSeq', '1', 'unread', '0', 'visitorUnread', '0',
  'adminRead', '0', 'visitorRead', '0', 'blocked', '0',
  'lastSeq', '0', 'lastSender', '', 'lastContent', '', 'lastAt', '0',
  'client', ARGV[9], 'status', 'open', 'ver', '1')
if ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'userId', ARGV[12])
end
if ARGV[11] ~= '' then
  redis.call('HSET', KEYS[1], 'verified', '1', 'identity', ARGV[11])
end
if tonumber(ARGV[6]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end

-- Search index: the visitor's name and email ('v').
do
  local K, A = 3, 13
  local hset = {'HSET', KEYS[K]}
  for i = A + 1, #ARGV do
    hset[#hset + 1] = ARGV[i]
    hset[#hset + 1] = 'v'
  end
  if #hset > 2 then
    redis.call(unpack(hset))
    if tonumber(ARGV[A]) > 0 then
      redis.call('PEXPIRE', KEYS[K], ARGV[A])
    end
  end
end

local ev = ARGV[8] .. cjson.encode(redis.call('HGETALL', KEYS[1])) .. '}'
return {{'1', ARGV[5], '0', 'open', '', '', '', ''}, emit(KEYS[1], KEYS[2], ev)}
