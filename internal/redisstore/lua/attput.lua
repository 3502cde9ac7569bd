-- Record an uploaded attachment of a room as waiting to be sent, once its
-- bytes are in the blob store.
--
-- KEYS[1] room hash
-- KEYS[2] the room's attachments hash (id -> Attachment JSON)
-- KEYS[3] the room's pending attachments zset (id -> send-by, ms)
-- KEYS[4] attachment sweep zset (room id -> when to sweep, ms)
--
-- ARGV[1] room id
-- ARGV[2] attachment id
-- ARGV[3] Attachment JSON
-- ARGV[4] send-by (ms): after it the sweeper deletes the attachment
--
-- Returns 1, or 0 when the room is gone (nothing stored).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl)
  redis.call('PEXPIRE', KEYS[3], pttl)
end
local cur = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not cur or tonumber(cur) > tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
end
return 1
