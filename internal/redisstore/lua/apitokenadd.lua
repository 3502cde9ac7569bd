-- Store a new API token unless the site has its maximum already.
--
-- KEYS[1]  the set of API token ids
-- KEYS[2]  the token's hash
--
-- ARGV[1]  token id
-- ARGV[2]  most tokens a site may have
-- ARGV[3…] field, value pairs of the token's hash (name, scopes, createdAt,
--          createdBy, hash)
--
-- Returns 1 when stored, 0 when the maximum was reached (nothing stored).
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
