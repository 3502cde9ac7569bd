-- Keep the first signing secret any instance offers, and return the kept one.
-- KEYS: 1 secret
-- ARGV: 1 candidate
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
