-- Change where a room stands in the team's work — its status, its assignee
-- or its labels — and move it between the indexes of the inbox views with
-- it, in one step, with the room event. The Go side decides what a
-- change means (an assignee exists, a label is defined); the script applies
-- it. It writes only the room's keys: the views, and the event's log and
-- publish, follow in the room's index partition (lua/place.lua), from the
-- placement and the event returned.
--
-- KEYS[1]  room hash
-- KEYS[2]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  mode: status | assign | labels | unlabel | unassign | wake
-- ARGV[2]  status: the status; assign: the username ('' = nobody); labels:
--          the label ids, comma-separated; unlabel: the label id to take
--          off; unassign: the username whose room it no longer is; wake:
--          now (ms)
-- ARGV[3]  status: end of the snooze (ms, '' = none); assign: the display
--          name
-- ARGV[4]  room id
-- ARGV[5]  events channel
-- ARGV[6]  room event JSON up to the room hash
-- ARGV[7]  unused (was the admin log's length)
--
-- Returns {placement, field, value, ...}: the placement {ver, score,
-- unread, status, assignee, labels, snoozedUntil, sweep} (see
-- lua/place.lua; a change bumps ver), the room event ("n:t:p|JSON", for the
-- follow-up), then the flat room hash; {} when the
-- room does not exist; {'same'} when the change changes nothing (nothing
-- is published); {'notdue'} when a wake finds the room not due yet, and
-- {'notdue', placement} when it is no longer snoozed at all (the follow-up
-- takes it out of the snoozed set).

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local room, id = KEYS[1], ARGV[4]
local h = redis.call('HMGET', room, 'updatedAt', 'status', 'assignee', 'snoozedUntil', 'labels')
if not h[1] then
  return {}
end
local function placed()
  local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
  local unread = '0'
  if tonumber(p[3] or '0') > 0 then
    unread = '1'
  end
  return {p[1] or '0', p[2] or '0', unread, p[4] or 'open', p[5] or '', p[6] or '', p[7] or '', ''}
end
local oldS, oldA, oldU, oldL = h[2] or 'open', h[3] or '', h[4] or '', h[5] or ''
local s, a, u, l = oldS, oldA, oldU, oldL
local mode = ARGV[1]
local name = ''

if mode == 'status' then
  s, u = ARGV[2], ARGV[3]
  if s ~= 'pending' then
    u = ''
  end
elseif mode == 'assign' then
  a, name = ARGV[2], ARGV[3]
elseif mode == 'labels' then
  l = ARGV[2]
elseif mode == 'unlabel' then
  local kept = {}
  for x in string.gmatch(oldL, '[^,]+') do
    if x ~= ARGV[2] then
      kept[#kept + 1] = x
    end
  end
  l = table.concat(kept, ',')
elseif mode == 'unassign' then
  if oldA ~= ARGV[2] then
    return {'same'}
  end
  a = ''
elseif mode == 'wake' then
  if oldS ~= 'pending' or oldU == '' then
    return {'notdue', placed()}
  end
  if tonumber(oldU) > tonumber(ARGV[2]) then
    return {'notdue'}
  end
  s, u = 'open', ''
end
if s == oldS and a == oldA and u == oldU and l == oldL and h[2] then
  return {'same'}
end

redis.call('HSET', room, 'status', s)
if u == '' then
  redis.call('HDEL', room, 'snoozedUntil')
else
  redis.call('HSET', room, 'snoozedUntil', u)
end
if a == '' then
  redis.call('HDEL', room, 'assignee', 'assigneeName')
elseif a ~= oldA then
  redis.call('HSET', room, 'assignee', a, 'assigneeName', name)
end
if l == '' then
  redis.call('HDEL', room, 'labels')
else
  redis.call('HSET', room, 'labels', l)
end

bumpVer(room)

local hash = redis.call('HGETALL', room)
local ev = ARGV[6] .. cjson.encode(hash) .. '}'
table.insert(hash, 1, emit(room, KEYS[2], ev))
table.insert(hash, 1, placed())
return hash
