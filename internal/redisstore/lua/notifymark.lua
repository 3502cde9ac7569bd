-- Record how far the last notification mail of one kind about a room went:
-- only up, and only while the room exists (no hash is made for a room that
-- was deleted meanwhile).
--
-- KEYS[1]  room hash
--
-- ARGV[1]  field (notified:agents | notified:visitor)
-- ARGV[2]  seq the mail covered
--
-- Returns 1 when the mark moved, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= cur then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
