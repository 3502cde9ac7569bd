-- Replace an existing admin account (a new password), moving it to a new
-- generation: every token issued before is refused from this step on, and
-- every instance is told to end that account's streams.
--
-- KEYS[1]  admin hash
-- KEYS[2]  generation counter (INCR: every account change draws from it)
--
-- ARGV[1]  username
-- ARGV[2]  display name
-- ARGV[3]  password hash
-- ARGV[4]  tokens valid after (ms)
-- ARGV[5]  events channel
-- ARGV[6]  admin.revoked event JSON (the username)
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'displayName', ARGV[2], 'passwordHash', ARGV[3],
  'tokensAfter', ARGV[4], 'generation', redis.call('INCR', KEYS[2]))
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
