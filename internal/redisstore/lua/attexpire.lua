-- Forget a room's attachments that waited past now unsent, and say when the
-- sweeper should look at the room next: its earliest pending attachment, or
-- its expiry. It writes only the room's keys: the sweep set follows in the
-- room's index partition (lua/place.lua).
--
-- KEYS[1] room hash
-- KEYS[2] the room's attachments hash
-- KEYS[3] the room's pending attachments zset
-- ARGV[1] room id
-- ARGV[2] now (ms)
--
-- Returns {'gone'} when the room no longer exists (nothing changed), else
-- {'ok', placement, id…} with the ids forgotten (their bytes are the
-- caller's to delete); the placement {ver, score, unread, status, assignee,
-- labels, snoozedUntil, sweep} bumps ver, and its sweep is the next time,
-- or '-' when the room has no files left.
-- bumpVer is in lua/lib/emit.lua, put before this script by scripts.go.

local room = KEYS[1]
if redis.call('EXISTS', room) == 0 then
  return {'gone'}
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[2])
for _, id in ipairs(ids) do
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
local nextSweep = nil
if redis.call('EXISTS', KEYS[2]) == 1 then
  local pttl = redis.call('PTTL', room)
  if pttl > 0 then
    nextSweep = tonumber(ARGV[2]) + pttl
  end
  local p = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if p[2] and (not nextSweep or tonumber(p[2]) < nextSweep) then
    nextSweep = tonumber(p[2])
  end
end
local sweep = '-'
if nextSweep then
  sweep = string.format('%.0f', nextSweep)
end
bumpVer(room)
local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
local unread = '0'
if tonumber(p[3] or '0') > 0 then
  unread = '1'
end
return {'ok', {p[1] or '0', p[2] or '0', unread, p[4] or 'open', p[5] or '', p[6] or '', p[7] or '', sweep}, unpack(ids)}
