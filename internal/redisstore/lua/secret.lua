-- Keep the first signing secret any instance offers, and return the kept one.
--
-- KEYS[1]  secret string
--
-- ARGV[1]  candidate secret
--
-- Returns the stored secret.
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
