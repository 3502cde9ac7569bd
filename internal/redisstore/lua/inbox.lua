-- Change where a room stands in the team's work — its status, its assignee
-- or its labels — and move it between the indexes of the inbox views with
-- it, in one step, then publish the room event. The Go side decides what a
-- change means (an assignee exists, a label is defined); the script applies
-- it.
--
-- A room is in exactly these indexes, each scored by updatedAt: the index
-- of its status; when open, the unassigned index or its assignee's; the
-- index of each of its labels. A pending room with a snooze is also in the
-- snoozed set, scored by the snooze's end.
--
-- KEYS[1]  room hash
-- KEYS[2]  open index
-- KEYS[3]  pending index
-- KEYS[4]  resolved index
-- KEYS[5]  unassigned index
-- KEYS[6]  snoozed set (room id -> end of snooze, ms)
-- KEYS[7]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  mode: status | assign | labels | unlabel | unassign | wake
-- ARGV[2]  status: the status; assign: the username ('' = nobody); labels:
--          the label ids, comma-separated; unlabel: the label id to take
--          off; unassign: the username whose room it no longer is; wake:
--          now (ms)
-- ARGV[3]  status: end of the snooze (ms, '' = none); assign: the display
--          name
-- ARGV[4]  prefix of the agents' indexes (+ username)
-- ARGV[5]  prefix of the labels' indexes (+ label id)
-- ARGV[6]  room id (the member of the indexes)
-- ARGV[7]  events channel
-- ARGV[8]  room event JSON up to the room hash
-- ARGV[9]  admin log length kept (approximately)
--
-- Returns the flat room hash; {} when the room does not exist; {'same'}
-- when the change changes nothing (nothing is published); {'notdue'} when
-- a wake finds the room no longer due.
local room, id = KEYS[1], ARGV[6]
local h = redis.call('HMGET', room, 'updatedAt', 'status', 'assignee', 'snoozedUntil', 'labels')
if not h[1] then
  redis.call('ZREM', KEYS[6], id)
  return {}
end
local score = h[1]
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
    redis.call('ZREM', KEYS[6], id)
    return {'notdue'}
  end
  if tonumber(oldU) > tonumber(ARGV[2]) then
    return {'notdue'}
  end
  s, u = 'open', ''
end
if s == oldS and a == oldA and u == oldU and l == oldL and h[2] then
  return {'same'}
end

local byStatus = {open = KEYS[2], pending = KEYS[3], resolved = KEYS[4]}
-- Out of the old indexes…
redis.call('ZREM', byStatus[oldS], id)
if oldS == 'open' then
  if oldA == '' then
    redis.call('ZREM', KEYS[5], id)
  else
    redis.call('ZREM', ARGV[4] .. oldA, id)
  end
end
redis.call('ZREM', KEYS[6], id)
for x in string.gmatch(oldL, '[^,]+') do
  redis.call('ZREM', ARGV[5] .. x, id)
end
-- …into the new ones.
redis.call('ZADD', byStatus[s], score, id)
if s == 'open' then
  if a == '' then
    redis.call('ZADD', KEYS[5], score, id)
  else
    redis.call('ZADD', ARGV[4] .. a, score, id)
  end
end
if s == 'pending' and u ~= '' then
  redis.call('ZADD', KEYS[6], u, id)
end
for x in string.gmatch(l, '[^,]+') do
  redis.call('ZADD', ARGV[5] .. x, score, id)
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

local hash = redis.call('HGETALL', room)
local ev = ARGV[8] .. cjson.encode(hash) .. '}'
redis.call('PUBLISH', ARGV[7], redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[9], '*', 'e', ev) .. ev)
return hash
