-- Fill in a room's visitor details where they are still empty: a returning
-- visitor may give a name or email later, but never overwrites one. When a
-- detail was filled in, the room event is published.
--
-- KEYS[1]  room hash
--
-- ARGV[1]  visitor name ('' = not given)
-- ARGV[2]  visitor email ('' = not given)
-- ARGV[3]  page ('' = not given)
-- ARGV[4]  events channel
-- ARGV[5]  room event JSON up to the room hash
--
-- Returns the flat room hash, or an empty array when the room does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
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
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. cjson.encode(hash) .. '}')
end
return hash
