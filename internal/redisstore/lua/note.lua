-- Store an agent's private note in a room and publish it to the admin
-- streams only. The notes list lives as long as the room: it takes the
-- room's remaining TTL (and every send refreshes both).
--
-- KEYS[1]  room hash
-- KEYS[2]  notes list (note JSON, oldest first)
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  note JSON
-- ARGV[2]  most notes a room may have
-- ARGV[3]  events channel
-- ARGV[4]  note event JSON
-- ARGV[5]  admin log length kept (approximately)
--
-- Returns the note's position in the list (1-based), 0 when the room does
-- not exist, -1 when it has the most notes already.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  return -1
end
local n = redis.call('RPUSH', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('PUBLISH', ARGV[3], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4]) .. ARGV[4])
return n
