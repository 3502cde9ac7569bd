-- Record an API token's last use, if the token still exists (a revoked one
-- must not come back as a stub) and the time is later than the stored one.
--
-- KEYS[1]  the token's hash
--
-- ARGV[1]  when it was used (ms)
--
-- Returns 1 when set, 0 otherwise.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local cur = tonumber(redis.call('HGET', KEYS[1], 'lastUsedAt') or '0') or 0
if tonumber(ARGV[1]) <= cur then
  return 0
end
redis.call('HSET', KEYS[1], 'lastUsedAt', ARGV[1])
return 1
