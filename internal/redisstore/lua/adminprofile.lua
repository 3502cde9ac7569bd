-- Set an existing admin's profile, keeping the password and the generation
-- (the admin's tokens stay good); setting a preference lifts an earlier
-- unsubscribe.
--
-- KEYS[1]  admin hash
-- KEYS[2]  the agent's unsubscribe marker
--
-- ARGV[1]  display name
-- ARGV[2]  email ('' = none)
-- ARGV[3]  notify preference ('' = never chosen)
-- ARGV[4]  lift the unsubscribe (0|1)
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'displayName', ARGV[1], 'email', ARGV[2], 'notify', ARGV[3])
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
end
return 1
