-- Where a room stands, for the reconciler and the migration to the
-- partitioned index (index.go), which apply it with lua/place.lua. A room
-- stored before the team inbox existed is given its status (open) here,
-- and one stored before versions existed its first version.
--
-- KEYS[1] room hash
-- KEYS[2] the room's attachments hash
-- KEYS[3] the room's pending attachments zset
-- ARGV[1] now (ms)
--
-- Returns {} when the room does not exist, else the placement {ver, score,
-- unread, status, assignee, labels, snoozedUntil, sweep}; sweep is '?N'
-- (N: when the sweeper should look at its files, set only if the room is
-- not in the sweep set: the sweeper's own lease stays) or '' without files.
-- bumpVer is in lua/lib/emit.lua, put before this script by scripts.go.

local room = KEYS[1]
local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
if not p[2] then
  return {}
end
if not p[4] then
  redis.call('HSET', room, 'status', 'open')
  p[4] = 'open'
  p[1] = bumpVer(room)
elseif not p[1] then
  p[1] = bumpVer(room)
end
local sweep = ''
if redis.call('EXISTS', KEYS[2]) == 1 then
  local nextSweep = nil
  local pttl = redis.call('PTTL', room)
  if pttl > 0 then
    nextSweep = tonumber(ARGV[1]) + pttl
  end
  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if first[2] and (not nextSweep or tonumber(first[2]) < nextSweep) then
    nextSweep = tonumber(first[2])
  end
  if nextSweep then
    sweep = '?' .. string.format('%.0f', nextSweep)
  end
end
local unread = '0'
if tonumber(p[3] or '0') > 0 then
  unread = '1'
end
return {tostring(p[1]), p[2], unread, p[4], p[5] or '', p[6] or '', p[7] or '', sweep}
