-- Replace a registered webhook endpoint (a rotated secret), only while it
-- exists: an endpoint deleted meanwhile is not brought back.
--
-- KEYS[1]  the endpoints hash (id -> JSON)
--
-- ARGV[1]  endpoint id
-- ARGV[2]  endpoint JSON
--
-- Returns 1 when replaced, 0 when there is no such endpoint.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
