-- Record the page a room's visitor is on, with the room's remaining TTL.
--
-- KEYS[1]  room hash (must exist; its PTTL is the new keys')
-- KEYS[2]  pages list (newest first)
-- KEYS[3]  visitor hash (browser, os, zone, language, referrer, utm_*, seen/left)
--
-- ARGV[1]  the page's JSON ({url, title, at})
-- ARGV[2]  pages kept
-- ARGV[3]  n: how many field/value pairs follow that replace what is stored
-- ARGV[4…] n pairs, then pairs set only while the field is unset
--
-- Returns 0 when the room does not exist, else {pages, visitor hash flat}.
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
for i = 4 + 2 * n, #ARGV, 2 do
  redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[3], 'seen', ARGV[1]:match('"at":"([^"]*)"') or '')
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return {redis.call('LRANGE', KEYS[2], 0, -1), redis.call('HGETALL', KEYS[3])}
