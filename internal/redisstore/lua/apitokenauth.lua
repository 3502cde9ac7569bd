-- Read an API token and the account of the owner who made it, in one round
-- trip: every request made with the token needs both. Reads only.
--
-- KEYS[1]  the token's hash
--
-- ARGV[1]  the prefix of the admin account hashes (keys.AdminPrefix), to
--          which the script appends the token's createdBy
--
-- Returns {} when there is no such token, else {token hash as a flat
-- array, account hash as a flat array (empty when the account is gone)}.
local t = redis.call('HGETALL', KEYS[1])
if #t == 0 then
  return {}
end
local by = redis.call('HGET', KEYS[1], 'createdBy')
if not by or by == '' then
  return {t, {}}
end
return {t, redis.call('HGETALL', ARGV[1] .. by)}
