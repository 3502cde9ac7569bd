-- Replace a canned reply, if it is still the one the change was made from,
-- moving its shortcut, and tell every console.
--
-- KEYS[1]  canned hash (id → JSON)
-- KEYS[2]  shortcut hash (shortcut → id)
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  id
-- ARGV[2]  the JSON the change was made from
-- ARGV[3]  its shortcut
-- ARGV[4]  new shortcut
-- ARGV[5]  new JSON
-- ARGV[6]  events channel
-- ARGV[7]  canned.updated event JSON
-- ARGV[8]  admin log length kept (approximately)
--
-- Returns 1, 0 when there is no such canned reply, -1 when it is no longer
-- ARGV[2] (nothing changed: read again), or -2 when the new shortcut is
-- another one's.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  return 0
end
if cur ~= ARGV[2] then
  return -1
end
local owner = redis.call('HGET', KEYS[2], ARGV[4])
if owner and owner ~= ARGV[1] then
  return -2
end
if ARGV[3] ~= ARGV[4] then
  redis.call('HDEL', KEYS[2], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[1])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[5])
redis.call('PUBLISH', ARGV[6], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[7]) .. ARGV[7])
return 1
