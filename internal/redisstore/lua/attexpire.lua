-- Forget a room's attachments that waited past now unsent, and schedule the
-- room's next sweep: its earliest pending attachment, or its expiry.
--
-- KEYS[1] room hash
-- KEYS[2] the room's attachments hash
-- KEYS[3] the room's pending attachments zset
-- KEYS[4] attachment sweep zset
-- ARGV[1] room id
-- ARGV[2] now (ms)
--
-- Returns {'gone'} when the room no longer exists (nothing changed), else
-- {'ok', id…} with the ids forgotten (their bytes are the caller's to
-- delete).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {'gone'}
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[2])
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
local nextSweep = nil
if redis.call('EXISTS', KEYS[2]) == 1 then
  local pttl = redis.call('PTTL', KEYS[1])
  if pttl > 0 then
    nextSweep = tonumber(ARGV[2]) + pttl
  end
  local p = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if p[2] and (not nextSweep or tonumber(p[2]) < nextSweep) then
    nextSweep = tonumber(p[2])
  end
end
if nextSweep then
  redis.call('ZADD', KEYS[4], nextSweep, ARGV[1])
else
  redis.call('ZREM', KEYS[4], ARGV[1])
end
return {'ok', unpack(ids)}
