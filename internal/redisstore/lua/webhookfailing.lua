-- Mark a webhook endpoint failing, only while it exists (a delivery given
-- up after the endpoint was deleted marks nothing).
--
-- KEYS[1]  the endpoints hash (id -> JSON)
-- KEYS[2]  the failure marks hash (id -> JSON)
--
-- ARGV[1]  endpoint id
-- ARGV[2]  failure JSON (since, reason)
--
-- Returns 1 when marked, 0 when there is no such endpoint.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
