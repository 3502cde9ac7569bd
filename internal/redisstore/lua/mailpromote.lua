-- Queue again the mails whose retry time has come, on Redis's clock; one
-- step, so two instances promoting at once queue each mail once.
--
-- KEYS[1]  the retry sorted set (mail id -> when, ms)
-- KEYS[2]  the queue stream
--
-- ARGV[1]  how many mails at most
--
-- Returns how many mails were queued.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
