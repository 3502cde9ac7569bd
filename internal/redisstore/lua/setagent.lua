-- Apply an owner's change of an account's display name, email or role,
-- keeping its password and generation (a role is read on every request, so
-- a new one holds from the next request on), and tell every console
-- (agent.updated, in the admin log). A change that would leave the team
-- without an owner is refused.
--
-- KEYS[1]  admin hash
-- KEYS[2]  admin event log (a capped stream; the publish carries its entry id)
-- KEYS[3…] the hashes of every other admin (who else is an owner)
--
-- ARGV[1]  events channel
-- ARGV[2]  agent.updated event JSON up to the agent (a flat array), which
--          the script appends with its '}'
-- ARGV[3]  admin log length kept (approximately)
-- ARGV[4]  the new role ('' = kept)
-- ARGV[5…] field, value pairs to set (displayName, email)
--
-- An account without a role field is an owner (it predates roles).
-- Returns 1, 0 when there is no such admin, -1 when it is the last owner
-- and ARGV[4] would make it an agent (nothing is set).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if ARGV[4] == 'agent' and redis.call('HGET', KEYS[1], 'role') ~= 'agent' then
  local other = false
  for i = 3, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('HGET', KEYS[i], 'role') ~= 'agent' then
      other = true
      break
    end
  end
  if not other then
    return -1
  end
end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'role', ARGV[4])
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local v = redis.call('HMGET', KEYS[1], 'username', 'displayName', 'email', 'role')
local ev = ARGV[2] .. cjson.encode({'username', v[1] or '', 'displayName', v[2] or '', 'email', v[3] or '', 'role', v[4] or ''}) .. '}'
redis.call('PUBLISH', ARGV[1], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ev) .. ev)
return 1
