-- Revoke an API token: delete it and tell every instance, which ends the
-- admin streams opened with it at once.
--
-- KEYS[1]  the set of API token ids
-- KEYS[2]  the token's hash
--
-- ARGV[1]  token id
-- ARGV[2]  events channel
-- ARGV[3]  admin.revoked event JSON (the token's stream id)
--
-- Returns 1, or 0 when there is no such token.
redis.call('SREM', KEYS[1], ARGV[1])
if redis.call('DEL', KEYS[2]) == 0 then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
