-- Delete a label definition and publish the list left. The rooms carrying
-- it are taken off it by the caller first (inbox.lua, unlabel, with each
-- room's follow-up), and its partitions' indexes deleted after.
--
-- KEYS[1]  labels hash
-- KEYS[2]  admin event log
--
-- ARGV[1]  label id
-- ARGV[2]  events channel
-- ARGV[3]  labels event JSON up to the list
-- ARGV[4]  admin log length kept (approximately)
--
-- Returns 1, or 0 when the label did not exist.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local list = redis.call('HVALS', KEYS[1])
local ev = ARGV[3] .. '[' .. table.concat(list, ',') .. ']}'
redis.call('PUBLISH', ARGV[2], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'e', ev) .. ev)
return 1
