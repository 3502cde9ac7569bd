-- Keep the first salt any instance offers for a day, for as long as Go says,
-- and return the kept one.
--
-- KEYS[1]  the day's salt string
--
-- ARGV[1]  candidate salt
-- ARGV[2]  ttl (ms)
--
-- Returns the stored salt.
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return redis.call('GET', KEYS[1])
