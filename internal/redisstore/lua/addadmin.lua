-- Create an admin account.
-- KEYS: 1 admin hash, 2 admins set
-- ARGV: 1 username, 2 display name, 3 password hash, 4 only if no admin
--       exists at all (0|1), 5 tokens valid after (ms)
-- Returns 1 created, 0 another admin exists (first-admin mode), -1 taken.
if ARGV[4] == '1' and redis.call('SCARD', KEYS[2]) > 0 then
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'displayName', ARGV[2], 'passwordHash', ARGV[3],
  'tokensAfter', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
