-- Set a room's visitor name and email over what it had: the details of a
-- verified identity follow what the site says. When one changed, the room
-- event is published. A blocked room refuses them, as it refuses the
-- visitor's other changes.
--
-- KEYS[1]  room hash
-- KEYS[2]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  visitor name
-- ARGV[2]  visitor email
-- ARGV[3]  events channel
-- ARGV[4]  room event JSON up to the room hash
-- ARGV[5]  admin log length kept (approximately)
--
-- Search index: the new details are found too (the old ones' terms stay
-- until the room goes, as a message's do):
-- KEYS[3]  terms hash of the room (term -> where its latest hit is)
-- KEYS[4..] one search term zset per term of the name and email
-- ARGV[6]  how long the terms hash outlives the room (ms)
-- ARGV[7]  room id (the member of the search zsets)
-- ARGV[8..] the terms, in the order of KEYS[4..]
--
-- Returns the flat room hash, an empty array when the room does not exist,
-- or {'blocked'} when the visitor is blocked (nothing is set).
local blocked = redis.call('HGET', KEYS[1], 'blocked')
if not blocked then
  return {}
end
if blocked == '1' then
  return {'blocked'}
end
local h = redis.call('HMGET', KEYS[1], 'name', 'email')
if h[1] == ARGV[1] and h[2] == ARGV[2] then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'email', ARGV[2])
local at = redis.call('HGET', KEYS[1], 'updatedAt')
local hset = {'HSET', KEYS[3]}
for i = 4, #KEYS do
  hset[#hset + 1] = ARGV[i + 4]
  hset[#hset + 1] = 'v'
  redis.call('ZADD', KEYS[i], at, ARGV[7])
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
redis.call('PUBLISH', ARGV[3], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'e', ev) .. ev)
return hash
