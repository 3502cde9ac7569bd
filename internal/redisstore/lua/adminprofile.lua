-- Set an existing admin's profile, keeping the password and the generation
-- (the admin's tokens stay good), and tell every console (agent.updated, in
-- the admin log); setting a preference lifts an earlier unsubscribe.
--
-- KEYS[1]  admin hash
-- KEYS[2]  the agent's unsubscribe marker
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  display name
-- ARGV[2]  email ('' = none)
-- ARGV[3]  notify preference ('' = never chosen)
-- ARGV[4]  lift the unsubscribe (0|1)
-- ARGV[5]  events channel
-- ARGV[6]  agent.updated event JSON up to the agent (a flat array), which
--          the script appends with its '}'
-- ARGV[7]  admin log length kept (approximately)
--
-- Returns 1, or 0 when there is no such admin.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'displayName', ARGV[1], 'email', ARGV[2], 'notify', ARGV[3])
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
end
local v = redis.call('HMGET', KEYS[1], 'username', 'displayName', 'email', 'role')
local ev = ARGV[6] .. cjson.encode({'username', v[1] or '', 'displayName', v[2] or '', 'email', v[3] or '', 'role', v[4] or ''}) .. '}'
redis.call('PUBLISH', ARGV[5], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[7], '*', 'e', ev) .. ev)
return 1
