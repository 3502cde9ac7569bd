-- Move one side's read mark up and recount that side's unread counter from
-- the messages after the mark, and, when the mark moved, publish the read
-- event (when given) and the room event. The Go side names the fields of the
-- side and the sender whose messages count; the script only counts them, in
-- the senders string send keeps (one byte per message, never the JSON).
--
-- KEYS[1]  room hash
-- KEYS[2]  senders string (byte seq-1: the first byte of that message's sender)
-- KEYS[3]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  the side's read mark field of the room hash
-- ARGV[2]  the side's unread counter field of the room hash
-- ARGV[3]  the byte that marks a message counted as unread for the side
--          (a letter: the first byte of the other side's sender)
-- ARGV[4]  seq to mark read up to (beyond the last = the last)
-- ARGV[5]  room id
-- ARGV[6]  events channel
-- ARGV[7]  room event JSON up to the room hash
-- ARGV[8]  read event JSON up to the seq ('' = none; visitors only: not logged)
-- ARGV[9]  unused (was the admin log's length)
--
-- ARGV[10] 1 when the counter is the one the unread view follows: a move
--          then bumps the room's ver and the reply carries its placement
--          for the follow-up (lua/place.lua)
--
-- Returns 1 or 0 (did the mark move), the placement ('' when none), the
-- room event ("n:t:p|JSON" for the follow-up, '' when the mark did not move),
-- then the flat room hash; an empty array when the room does not exist.

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local room = KEYS[1]
local markField, counter, mark = ARGV[1], ARGV[2], ARGV[3]
local h = redis.call('HMGET', room, 'seq', 'firstSeq', markField)
if not h[1] then
  return {}
end
local last, first, old = tonumber(h[1]), tonumber(h[2] or '1'), tonumber(h[3] or '0')
local seq = tonumber(ARGV[4])
if seq > last then
  seq = last
end
local moved = 0
if seq > old then
  moved = 1
  local n = 0
  if seq < last then
    -- Only the messages still stored count, as the list holds them.
    local marks = redis.call('GETRANGE', KEYS[2], math.max(seq + 1, first) - 1, last - 1)
    n = select(2, string.gsub(marks, mark, ''))
  end
  redis.call('HSET', room, markField, seq, counter, n)
end
local place = ''
if ARGV[10] == '1' then
  if moved == 1 then
    bumpVer(room)
  end
  local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
  local unread = '0'
  if tonumber(p[3] or '0') > 0 then
    unread = '1'
  end
  place = {p[1] or '0', p[2] or '0', unread, p[4] or 'open', p[5] or '', p[6] or '', p[7] or '', ''}
end
local out = redis.call('HGETALL', room)
local event = ''
if moved == 1 then
  if ARGV[8] ~= '' then
    redis.call('PUBLISH', ARGV[6], ARGV[8] .. seq .. '}')
  end
  local ev = ARGV[7] .. cjson.encode(out) .. '}'
  event = emit(room, KEYS[3], ev)
end
table.insert(out, 1, event)
table.insert(out, 1, place)
table.insert(out, 1, moved)
return out
