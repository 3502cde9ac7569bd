-- Revoke one admin token (logout) and tell every instance, which ends the
-- token's open streams at once.
--
-- KEYS[1]  the token's revoked marker
--
-- ARGV[1]  how long the marker lasts (ms): until the token would expire
-- ARGV[2]  events channel
-- ARGV[3]  admin.revoked event JSON (the token id)
--
-- Returns 1.
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
