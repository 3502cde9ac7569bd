-- Fill in a room's visitor details where they are still empty: a returning
-- visitor may give a name or email later, but never overwrites one.
-- KEYS: 1 room hash
-- ARGV: 1 name, 2 email, 3 page ('' = not given)
-- Returns the flat room hash, or an empty array when the room does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
local fields = {'name', 'email', 'page'}
for i, f in ipairs(fields) do
  if ARGV[i] ~= '' and (redis.call('HGET', KEYS[1], f) or '') == '' then
    redis.call('HSET', KEYS[1], f, ARGV[i])
  end
end
return redis.call('HGETALL', KEYS[1])
