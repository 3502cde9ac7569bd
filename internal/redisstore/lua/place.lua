-- The follow-up of a room write: place one room in its index partition as
-- the room script said it now stands, unless the partition has seen a newer
-- version of the room, or its tombstone. Every key is the partition's (one
-- hash tag, one Cluster slot); the room's own keys are not read.
--
-- Idempotent and order-safe: a placement is applied when its version is at
-- least the recorded one (the same version is the same room state, so
-- applying it again changes nothing), refused when older; a tombstone ("D|")
-- is never replaced, so a late or repeated update cannot resurrect a deleted
-- room, and an older one cannot drop an unread room.
--
-- KEYS[1]  placements hash (room id -> "ver|score|unread|status|assignee|
--          labels|snoozed", or "D|deletedAt")
-- KEYS[2]  all rooms       \
-- KEYS[3]  unread          |
-- KEYS[4]  open            | the partition's views, scored by updatedAt
-- KEYS[5]  pending         |
-- KEYS[6]  resolved        |
-- KEYS[7]  unassigned      /
-- KEYS[8]  snoozed (room id -> end of the snooze, ms)
-- KEYS[9]  attachment sweep (room id -> when to look at its files, ms)
-- KEYS[10] rooms being created (room id -> when, ms)
--
-- ARGV[1]  prefix of the partition's agents' indexes (+ username)
-- ARGV[2]  prefix of the partition's labels' indexes (+ label id)
-- ARGV[3]  now (ms): a tombstone's time, for pruning
-- ARGV[4]  mode: put | del (the room was deleted) | gone (the room was found
--          missing: tombstoned unless it is being created) | new (register
--          a room about to be created) | check (put, but write nothing when
--          the partition already agrees: the reconciler)
-- ARGV[5]  room id
-- ARGV[6]  version (the room hash's "ver")
-- ARGV[7]  score (updatedAt, ms)
-- ARGV[8]  unread (1 when the admins' counter is > 0)
-- ARGV[9]  status
-- ARGV[10] assignee ('' = nobody)
-- ARGV[11] labels (ids, comma-separated)
-- ARGV[12] snoozedUntil (ms, '' = none)
-- ARGV[13] sweep: '' leave as is, '-' remove, '?N' add at N unless there,
--          'N' set to N; for a tombstone, '0' makes the room due for the
--          sweeper even when it was not in the sweep set
--
-- Returns 1 when applied, 0 when refused (older, or tombstoned), 2 when the
-- partition already agreed (check).
local place, id, mode = KEYS[1], ARGV[5], ARGV[4]
if mode == 'new' then
  if redis.call('HEXISTS', place, id) == 1 then
    return 0
  end
  redis.call('ZADD', KEYS[10], 'NX', ARGV[3], id)
  return 1
end
local cur = redis.call('HGET', place, id)
if cur and string.sub(cur, 1, 2) == 'D|' then
  return 0
end
if mode == 'gone' and redis.call('ZSCORE', KEYS[10], id) then
  return 0
end
local line = ''
if mode == 'put' or mode == 'check' then
  line = table.concat({ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]}, '|')
end
local old = nil
if cur then
  old = {}
  for f in string.gmatch(cur .. '|', '([^|]*)|') do
    old[#old + 1] = f
  end
  if line ~= '' and tonumber(ARGV[6]) < tonumber(old[1]) then
    return 0
  end
  if mode == 'check' and cur == line then
    local s = redis.call('ZSCORE', KEYS[2], id)
    if s and tonumber(s) == tonumber(ARGV[7]) and
        (string.sub(ARGV[13], 1, 1) ~= '?' or redis.call('ZSCORE', KEYS[9], id)) then
      return 2
    end
  end
end
local byStatus = {open = KEYS[4], pending = KEYS[5], resolved = KEYS[6]}
-- Out of the entries of the last placement…
if old then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  if byStatus[old[4]] then
    redis.call('ZREM', byStatus[old[4]], id)
  end
  redis.call('ZREM', KEYS[7], id)
  if old[5] and old[5] ~= '' then
    redis.call('ZREM', ARGV[1] .. old[5], id)
  end
  for x in string.gmatch(old[6] or '', '[^,]+') do
    redis.call('ZREM', ARGV[2] .. x, id)
  end
  redis.call('ZREM', KEYS[8], id)
end
redis.call('ZREM', KEYS[10], id)
if line == '' then
  -- del, gone: the tombstone. A room that had files is due for the sweeper
  -- at once, so their bytes go.
  redis.call('HSET', place, id, 'D|' .. ARGV[3])
  if ARGV[13] == '0' or redis.call('ZSCORE', KEYS[9], id) then
    redis.call('ZADD', KEYS[9], 0, id)
  end
  return 1
end
-- …into the new ones.
local score, status, assignee = ARGV[7], ARGV[9], ARGV[10]
redis.call('ZADD', KEYS[2], score, id)
if ARGV[8] == '1' then
  redis.call('ZADD', KEYS[3], score, id)
end
if byStatus[status] then
  redis.call('ZADD', byStatus[status], score, id)
end
if status == 'open' then
  if assignee == '' then
    redis.call('ZADD', KEYS[7], score, id)
  else
    redis.call('ZADD', ARGV[1] .. assignee, score, id)
  end
end
for x in string.gmatch(ARGV[11], '[^,]+') do
  redis.call('ZADD', ARGV[2] .. x, score, id)
end
if status == 'pending' and ARGV[12] ~= '' then
  redis.call('ZADD', KEYS[8], ARGV[12], id)
end
redis.call('HSET', place, id, line)
local sweep = ARGV[13]
if sweep == '-' then
  redis.call('ZREM', KEYS[9], id)
elseif string.sub(sweep, 1, 1) == '?' then
  redis.call('ZADD', KEYS[9], 'NX', string.sub(sweep, 2), id)
elseif sweep ~= '' then
  redis.call('ZADD', KEYS[9], sweep, id)
end
return 1
