-- Register a webhook endpoint unless the site has its maximum already.
--
-- KEYS[1]  the endpoints hash (id -> JSON)
--
-- ARGV[1]  endpoint id
-- ARGV[2]  endpoint JSON
-- ARGV[3]  most endpoints a site may have
--
-- Returns 1 when stored, 0 when the maximum was reached.
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
