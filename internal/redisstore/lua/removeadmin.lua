-- Remove an admin account and its entry in the admins set.
--
-- KEYS[1]  admin hash
-- KEYS[2]  admins set
--
-- ARGV[1]  username
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
