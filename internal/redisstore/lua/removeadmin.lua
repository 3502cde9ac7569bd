-- Remove an admin account and its entry in the admins set, tell every
-- instance to end the account's open streams (admin.revoked) and every
-- console that it is gone (agent.removed, in the admin log). With ARGV[6],
-- the last owner is not removed.
--
-- KEYS[1]  admin hash
-- KEYS[2]  admins set
-- KEYS[3]  admin event log (a capped stream; the publish carries its entry id)
-- KEYS[4…] the hashes of every other admin (who else is an owner)
--
-- ARGV[1]  username
-- ARGV[2]  events channel
-- ARGV[3]  admin.revoked event JSON (the username)
-- ARGV[4]  agent.removed event JSON (the username)
-- ARGV[5]  admin log length kept (approximately)
-- ARGV[6]  keep an owner (0|1): refuse to remove the last one
--
-- An account without a role field is an owner (it predates roles).
-- Returns 1, 0 when there is no such admin, -1 when it is the last owner
-- and ARGV[6] keeps it (nothing is removed).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if ARGV[6] == '1' and redis.call('HGET', KEYS[1], 'role') ~= 'agent' then
  local other = false
  for i = 4, #KEYS do
    if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('HGET', KEYS[i], 'role') ~= 'agent' then
      other = true
      break
    end
  end
  if not other then
    return -1
  end
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4]) .. ARGV[4])
return 1
