-- Create an admin account, atomically with its entry in the admins set and
-- a generation never given out before, and tell every console
-- (agent.updated, in the admin log).
--
-- KEYS[1]  admin hash
-- KEYS[2]  admins set
-- KEYS[3]  generation counter (INCR: every account change draws from it)
-- KEYS[4]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  username
-- ARGV[2]  display name
-- ARGV[3]  password hash
-- ARGV[4]  refuse when any admin exists at all (0|1: the first-admin case)
-- ARGV[5]  tokens valid after (ms)
-- ARGV[6]  role (owner|agent)
-- ARGV[7]  email ('' = none)
-- ARGV[8]  events channel
-- ARGV[9]  agent.updated event JSON up to the agent (a flat array), which
--          the script appends with its '}'
-- ARGV[10] admin log length kept (approximately)
--
-- Returns 1 created, 0 another admin exists (first-admin case), -1 taken.
if ARGV[4] == '1' and redis.call('SCARD', KEYS[2]) > 0 then
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return -1
end
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'displayName', ARGV[2], 'passwordHash', ARGV[3],
  'tokensAfter', ARGV[5], 'generation', redis.call('INCR', KEYS[3]), 'role', ARGV[6], 'email', ARGV[7])
redis.call('SADD', KEYS[2], ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'username', 'displayName', 'email', 'role')
local ev = ARGV[9] .. cjson.encode({'username', v[1] or '', 'displayName', v[2] or '', 'email', v[3] or '', 'role', v[4] or ''}) .. '}'
redis.call('PUBLISH', ARGV[8], redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*', 'e', ev) .. ev)
return 1
