-- Create an admin account, atomically with its entry in the admins set.
--
-- KEYS[1]  admin hash
-- KEYS[2]  admins set
--
-- ARGV[1]  username
-- ARGV[2]  display name
-- ARGV[3]  password hash
-- ARGV[4]  refuse when any admin exists at all (0|1: the first-admin case)
-- ARGV[5]  tokens valid after (ms)
--
-- Returns 1 created, 0 another admin exists (first-admin case), -1 taken.
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
