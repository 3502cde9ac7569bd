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
-- KEYS[11] the views' sizes (field -> ZCARD of its index: all, unread, open,
--          pending, resolved, unassigned, agent:USERNAME), kept with every
--          entry added or removed here, so a listing reads them in one call
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
-- KEYS[12] the partition's admin log (a capped stream)
-- KEYS[13] the partition's logged events (room id -> "n:t", the number and
--          stamp of the room's last event logged; "n" when its stamp is
--          unknown: logged before events had one)
-- ARGV[14] events channel (on Cluster the partition's shard channel, in
--          this slot)
-- ARGV[15] admin log length kept (approximately)
-- ARGV[16] the log's name in a published event's id ("p03": "p03:ms-n{…}")
-- ARGV[17] '1': the events before ARGV[19] are lost (trimmed from the
--          room's outbox, or gone with it): log from ARGV[19] on anyway;
--          'Rn:t': the room was rolled back (see below): if the partition
--          still records "n:t" for it, log from ARGV[19] on as the room's
--          new line of events; '?N:T' (or '?N'): the room has numbered N
--          events, the last stamped T (a retried send's check: fewer
--          logged, or an older stamp, is a gap)
-- ARGV[18] how to publish: PUBLISH (one channel) | SPUBLISH (Cluster)
-- ARGV[19..] the room's events, "n:t:p|event JSON" (p: the stamp of the
--          event before; "n|…" from before stamps), n consecutive
--
-- The events are sequenced whatever the placement's fate (they are the
-- room's, numbered by its script): event n is appended to the log, and
-- published with its entry id, only after n - 1; a repeat (n at most the
-- logged number, and a stamp no later than the logged one's) is skipped;
-- a gap stops the logging, and the reply says so: Go reads the missing
-- events from the room's outbox and calls again. An event numbered at most
-- the logged number but stamped later is no repeat: a failover lost the
-- room's last writes (Redis replicates asynchronously), its numbers went
-- back, and its new events reuse them. That stops the logging too, as a
-- gap: Go finds the room's new line in its outbox (the events stamped
-- after the logged one) and logs it with 'R'. And an event n + 1 whose
-- stamp before is not the logged one's does not follow it (one line's
-- event after the other's: say the new line's second event came before
-- its first): a gap too.
--
-- Returns 1 when applied, 0 when refused (older, or tombstoned), 2 when the
-- partition already agreed (check); {that, logged, "n:t"} when the events
-- have a gap after the logged number (the third: what the partition
-- records).
local place, id, mode = KEYS[1], ARGV[5], ARGV[4]
local gap, probe, probeT = nil, nil, nil
local flag = ARGV[17] or ''

-- "n:t:p", "n:t" or "n" -> n, t, p (nil when unknown).
local function stamped(s)
  local f = {}
  for x in string.gmatch(s, '[^:]+') do
    f[#f + 1] = tonumber(x)
  end
  return f[1], f[2], f[3]
end

if string.sub(flag, 1, 1) == '?' then
  probe, probeT = stamped(string.sub(flag, 2))
end
local rec = '0'
if #ARGV >= 19 or probe then
  rec = redis.call('HGET', KEYS[13], id) or '0'
  local logged, loggedT = stamped(rec)
  local last, lastT = logged, loggedT
  local publish = ARGV[18] == 'SPUBLISH' and 'SPUBLISH' or 'PUBLISH'
  for i = 19, #ARGV do
    local e = ARGV[i]
    local bar = string.find(e, '|', 1, true)
    local n, t, prev = stamped(string.sub(e, 1, bar - 1))
    local forced = i == 19 and (flag == '1' or flag == 'R' .. rec)
    if i == 19 and flag == 'R' .. rec then
      last, lastT = n - 1, nil
    end
    if n > last + 1 and not forced then
      gap = last
      break
    end
    if n == last + 1 and not forced and prev and lastT and prev ~= lastT then
      gap = last -- it does not follow the logged event: another line's
      break
    end
    if n > last then
      local ev = string.sub(e, bar + 1)
      local at = redis.call('XADD', KEYS[12], 'MAXLEN', '~', ARGV[15], '*', 'e', ev)
      redis.call(publish, ARGV[14], ARGV[16] .. ':' .. at .. ev)
      last, lastT = n, t
    elseif t and lastT and t > lastT then
      gap = last -- the room was rolled back: Go finds its new line
      break
    end
  end
  if not gap and probe and (last < probe or probeT and lastT and probeT > lastT) then
    gap = last
  end
  if last ~= logged or lastT ~= loggedT then
    rec = tostring(last)
    if lastT then
      rec = rec .. ':' .. string.format('%.0f', lastT)
    end
    redis.call('HSET', KEYS[13], id, rec)
  end
end
local function done(r)
  if gap then
    return {r, gap, rec}
  end
  return r
end
if mode == 'log' then
  return done(1)
end
if mode == 'new' then
  if redis.call('HEXISTS', place, id) == 1 then
    return 0
  end
  redis.call('ZADD', KEYS[10], 'NX', ARGV[3], id)
  return 1
end
local cur = redis.call('HGET', place, id)
if cur and string.sub(cur, 1, 2) == 'D|' then
  return done(0)
end
if mode == 'gone' and redis.call('ZSCORE', KEYS[10], id) then
  return done(0)
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
    return done(0)
  end
  if mode == 'check' and cur == line then
    local s = redis.call('ZSCORE', KEYS[2], id)
    if s and tonumber(s) == tonumber(ARGV[7]) and
        (string.sub(ARGV[13], 1, 1) ~= '?' or redis.call('ZSCORE', KEYS[9], id)) then
      return done(2)
    end
  end
end
local byStatus = {open = KEYS[4], pending = KEYS[5], resolved = KEYS[6]}
local counts = KEYS[11]
-- The indexes a placement puts the room in, in order, each with the field
-- of the counts hash that mirrors its size ('' for a label: not counted).
local function indexes(unread, status, assignee, labels)
  local out = {{KEYS[2], 'all'}}
  if unread == '1' then
    out[#out + 1] = {KEYS[3], 'unread'}
  end
  if byStatus[status] then
    out[#out + 1] = {byStatus[status], status}
  end
  if status == 'open' then
    if assignee == '' then
      out[#out + 1] = {KEYS[7], 'unassigned'}
    else
      out[#out + 1] = {ARGV[1] .. assignee, 'agent:' .. assignee}
    end
  end
  for x in string.gmatch(labels or '', '[^,]+') do
    out[#out + 1] = {ARGV[2] .. x, ''}
  end
  return out
end
local before, after = {}, {}
if old then
  before = indexes(old[3], old[4], old[5] or '', old[6])
  redis.call('ZREM', KEYS[8], id)
end
if line ~= '' then
  after = indexes(ARGV[8], ARGV[9], ARGV[10], ARGV[11])
end
local stays = {}
for _, e in ipairs(after) do
  stays[e[1]] = true
end
-- Out of the entries of the last placement the new one does not keep…
for _, e in ipairs(before) do
  if not stays[e[1]] and redis.call('ZREM', e[1], id) == 1 and e[2] ~= '' and
      redis.call('HINCRBY', counts, e[2], -1) <= 0 then
    redis.call('HDEL', counts, e[2]) -- an empty view has no field
  end
end
redis.call('ZREM', KEYS[10], id)
if line == '' then
  -- del, gone: the tombstone. A room that had files is due for the sweeper
  -- at once, so their bytes go.
  redis.call('HSET', place, id, 'D|' .. ARGV[3])
  if ARGV[13] == '0' or redis.call('ZSCORE', KEYS[9], id) then
    redis.call('ZADD', KEYS[9], 0, id)
  end
  return done(1)
end
-- …into (or, where it stays, to the new score in) the new ones.
for _, e in ipairs(after) do
  if redis.call('ZADD', e[1], ARGV[7], id) == 1 and e[2] ~= '' then
    redis.call('HINCRBY', counts, e[2], 1)
  end
end
if ARGV[9] == 'pending' and ARGV[12] ~= '' then
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
return done(1)
