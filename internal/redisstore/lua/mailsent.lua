-- Finish a mail as sent: its entry leaves the stream and the group's
-- pending list, its hash keeps the state (and no payload) until it expires.
--
-- KEYS[1]  the queue stream
-- KEYS[2]  the mail's hash
--
-- ARGV[1]  consumer group
-- ARGV[2]  stream entry id
--
-- Returns 1 when the entry was still pending, 0 when another consumer had
-- finished it already.
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[2], 'state', 'sent', 'updatedAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('HDEL', KEYS[2], 'payload', 'reason')
end
return acked
