-- Look up the message an earlier send stored under a clientId, storing
-- nothing: what a retry gets back when a new send would be refused.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list (element i holds seq firstSeq+i)
-- KEYS[3]  dedup hash (clientId -> seq)
--
-- ARGV[1]  clientId
--
-- Returns {} when the room does not exist, else {blocked ('0'|'1'), message
-- JSON}; the message JSON is '' when the clientId is unknown or its message
-- was trimmed away since.
local h = redis.call('HMGET', KEYS[1], 'seq', 'firstSeq', 'blocked')
if not h[1] then
  return {}
end
local blocked = h[3] or '0'
local old = redis.call('HGET', KEYS[3], ARGV[1])
if not old then
  return {blocked, ''}
end
local idx = tonumber(old) - tonumber(h[2] or '1')
if idx < 0 then
  return {blocked, ''}
end
return {blocked, redis.call('LINDEX', KEYS[2], idx) or ''}
