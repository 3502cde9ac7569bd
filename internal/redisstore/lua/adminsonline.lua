-- Count the instances with a live admin presence heartbeat, on Redis's clock
-- (the instances' clocks may differ).
--
-- KEYS[1]  presence zset (instance -> expiry of its last heartbeat, ms)
--
-- Returns how many instances have a live heartbeat.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
