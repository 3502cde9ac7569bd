-- Set a room's visitor name and email over what it had: the details of a
-- verified identity follow what the site says. When one changed, the room
-- event is published. A blocked room refuses them, as it refuses the
-- visitor's other changes.
--
-- KEYS[1]  room hash
-- KEYS[2]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  visitor name
-- ARGV[2]  visitor email
-- ARGV[3]  events channel
-- ARGV[4]  room event JSON up to the room hash
-- ARGV[5]  unused (was the admin log's length)
--
-- Search index: the new details are found too (the old ones' terms stay
-- until the room goes, as a message's do); the partition's search sets
-- follow (lua/searchput.lua):
-- KEYS[3]  terms hash of the room (term -> where its latest hit is)
-- ARGV[6]  how long the terms hash outlives the room (ms)
-- ARGV[7]  room id
-- ARGV[8..] the terms of the name and email
--
-- Returns {event, field, value, ...}: the room event ("n:t:p|JSON" for the
-- follow-up, '' when nothing changed) then the flat room hash, an empty array when the room does not exist,
-- or {'blocked'} when the visitor is blocked (nothing is set). When the
-- details changed, the hash is followed by the pair '_searchFilled', 'ne'.

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local blocked = redis.call('HGET', KEYS[1], 'blocked')
if not blocked then
  return {}
end
if blocked == '1' then
  return {'blocked'}
end
local h = redis.call('HMGET', KEYS[1], 'name', 'email')
if h[1] == ARGV[1] and h[2] == ARGV[2] then
  local same = redis.call('HGETALL', KEYS[1])
  table.insert(same, 1, '')
  return same
end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'email', ARGV[2])
local hset = {'HSET', KEYS[3]}
for i = 8, #ARGV do
  hset[#hset + 1] = ARGV[i]
  hset[#hset + 1] = 'v'
end
if #hset > 2 then
  redis.call(unpack(hset))
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[3], ttl + tonumber(ARGV[6]))
  end
end
local hash = redis.call('HGETALL', KEYS[1])
local ev = ARGV[4] .. cjson.encode(hash) .. '}'
table.insert(hash, 1, emit(KEYS[1], KEYS[2], ev))
hash[#hash + 1] = '_searchFilled'
hash[#hash + 1] = 'ne'
return hash
