-- Mark a room's visitor online (their stream opened) or gone (closed).
--
-- KEYS[1]  pages list
-- KEYS[2]  visitor hash
--
-- ARGV[1]  field: seen (opened) or left (closed)
-- ARGV[2]  the time, as a sortable string (RFC 3339 UTC, milliseconds)
--
-- Returns 0 when the room has no visitor info (nothing is written), else
-- {pages, visitor hash flat}.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {redis.call('LRANGE', KEYS[1], 0, -1), redis.call('HGETALL', KEYS[2])}
