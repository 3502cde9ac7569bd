-- Fill in a room's visitor details where they are still empty: a returning
-- visitor may give a name or email later, but never overwrites one. When a
-- detail was filled in, the room event is published. Only the visitor fills
-- in details, so a blocked room refuses them.
--
-- KEYS[1]  room hash
-- KEYS[2]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  visitor name ('' = not given)
-- ARGV[2]  visitor email ('' = not given)
-- ARGV[3]  page ('' = not given)
-- ARGV[4]  events channel
-- ARGV[5]  room event JSON up to the room hash
-- ARGV[6]  admin log length kept (approximately)
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
local fields = {'name', 'email', 'page'}
local changed = false
for i, f in ipairs(fields) do
  if ARGV[i] ~= '' and (redis.call('HGET', KEYS[1], f) or '') == '' then
    redis.call('HSET', KEYS[1], f, ARGV[i])
    changed = true
  end
end
local hash = redis.call('HGETALL', KEYS[1])
if changed then
  local ev = ARGV[5] .. cjson.encode(hash) .. '}'
  redis.call('PUBLISH', ARGV[4], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'e', ev) .. ev)
end
return hash
