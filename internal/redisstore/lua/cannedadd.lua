-- Add a canned reply unless its shortcut is taken or the team has the most
-- it may have, and tell every console.
--
-- KEYS[1]  canned hash (id → JSON)
-- KEYS[2]  shortcut hash (shortcut → id)
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  id
-- ARGV[2]  shortcut
-- ARGV[3]  canned reply JSON
-- ARGV[4]  most canned replies kept
-- ARGV[5]  events channel
-- ARGV[6]  canned.updated event JSON
-- ARGV[7]  admin log length kept (approximately)
--
-- Returns 1, -1 when the shortcut is taken, or -2 at the limit.
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return -1
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
  return -2
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('PUBLISH', ARGV[5], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[6]) .. ARGV[6])
return 1
