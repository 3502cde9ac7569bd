-- Queue one outgoing mail, once per id: the hash is the idempotency
-- record, so an id seen within the keep window queues nothing.
--
-- KEYS[1]  the mail's hash
-- KEYS[2]  the queue stream
--
-- ARGV[1]  mail id
-- ARGV[2]  payload (the mail package's JSON)
-- ARGV[3]  how long the hash is kept (ms): the idempotency window
--
-- Returns 1 when queued, 0 when the id was queued before.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'payload', ARGV[2], 'state', 'queued', 'attempts', 0,
  'createdAt', now, 'updatedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
return 1
