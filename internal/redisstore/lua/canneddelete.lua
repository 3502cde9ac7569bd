-- Remove a canned reply and its shortcut, and tell every console.
--
-- KEYS[1]  canned hash (id → JSON)
-- KEYS[2]  shortcut hash (shortcut → id)
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  id
-- ARGV[2]  events channel
-- ARGV[3]  canned.deleted event JSON
-- ARGV[4]  admin log length kept (approximately)
--
-- Returns 1, or 0 when there is no such canned reply.
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  return 0
end
local shortcut = cjson.decode(cur)['shortcut']
if redis.call('HGET', KEYS[2], shortcut) == ARGV[1] then
  redis.call('HDEL', KEYS[2], shortcut)
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[3]) .. ARGV[3])
return 1
