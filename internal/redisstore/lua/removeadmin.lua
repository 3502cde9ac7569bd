-- Remove an admin account and its entry in the admins set, and tell every
-- instance to end the account's open streams.
--
-- KEYS[1]  admin hash
-- KEYS[2]  admins set
--
-- ARGV[1]  username
-- ARGV[2]  events channel
-- ARGV[3]  admin.revoked event JSON (the username)
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
