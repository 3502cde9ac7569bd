-- Finish a mail as dead: the entry leaves the stream, the id goes to the
-- front of the bounded dead-letter list, the hash (payload kept, for the
-- console) lives for the keep window from now.
--
-- KEYS[1]  the queue stream
-- KEYS[2]  the mail's hash
-- KEYS[3]  the dead-letter list (mail ids, newest first)
--
-- ARGV[1]  consumer group
-- ARGV[2]  stream entry id
-- ARGV[3]  mail id
-- ARGV[4]  why the last attempt failed
-- ARGV[5]  how many ids the dead-letter list keeps
-- ARGV[6]  how long the hash is kept from now (ms)
--
-- Returns the number of failed attempts, or 0 when the hash is gone.
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'state', 'dead', 'reason', ARGV[4], 'updatedAt', now)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('LREM', KEYS[3], 0, ARGV[3])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
return n
