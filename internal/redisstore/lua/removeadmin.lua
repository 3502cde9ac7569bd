-- Remove an admin account.
-- KEYS: 1 admin hash, 2 admins set
-- ARGV: 1 username
-- Returns 1, or 0 when there is no such admin.
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
