-- Record an uploaded attachment of a room as waiting to be sent, once its
-- bytes are in the blob store. It writes only the room's keys: the sweep
-- set follows in the room's index partition (lua/place.lua).
--
-- KEYS[1] room hash
-- KEYS[2] the room's attachments hash (id -> Attachment JSON)
-- KEYS[3] the room's pending attachments zset (id -> send-by, ms)
--
-- ARGV[1] room id
-- ARGV[2] attachment id
-- ARGV[3] Attachment JSON
-- ARGV[4] send-by (ms): after it the sweeper deletes the attachment
-- ARGV[5] now (ms)
--
-- Returns the placement {ver, score, unread, status, assignee, labels,
-- snoozedUntil, sweep} (a put bumps ver; sweep: when the sweeper should
-- look at the room next, its earliest pending attachment or its expiry), or
-- 0 when the room is gone (nothing stored).
-- bumpVer is in lua/lib/emit.lua, put before this script by scripts.go.

local room = KEYS[1]
if redis.call('EXISTS', room) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
local pttl = redis.call('PTTL', room)
if pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl)
  redis.call('PEXPIRE', KEYS[3], pttl)
end
local nextSweep = nil
if pttl > 0 then
  nextSweep = tonumber(ARGV[5]) + pttl
end
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
if first[2] and (not nextSweep or tonumber(first[2]) < nextSweep) then
  nextSweep = tonumber(first[2])
end
bumpVer(room)
local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
local unread = '0'
if tonumber(p[3] or '0') > 0 then
  unread = '1'
end
return {p[1] or '0', p[2] or '0', unread, p[4] or 'open', p[5] or '', p[6] or '', p[7] or '', string.format('%.0f', nextSweep)}
