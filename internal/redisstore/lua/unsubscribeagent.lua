-- An agent's one-click unsubscribe: their notification preference becomes
-- "never", only on an account that exists (a removed account is not
-- recreated as a hash holding one field).
--
-- KEYS[1]  admin hash
-- KEYS[2]  the agent's unsubscribed marker (the notifier reads it)
--
-- ARGV[1]  field of the notification preference
-- ARGV[2]  the value that means never
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], '1')
return 1
