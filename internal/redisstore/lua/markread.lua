-- Move one side's read mark up and recount that side's unread counter from
-- the messages after the mark, and, when the mark moved, publish the read
-- event (when given) and the room event. The Go side names the fields of the
-- side and the sender whose messages count; the script only counts them, in
-- the senders string send keeps (one byte per message, never the JSON).
--
-- KEYS[1]  room hash
-- KEYS[2]  senders string (byte seq-1: the first byte of that message's sender)
-- KEYS[3]  unread index, only when the counter is the one it follows (a room
--          whose counter drops to 0 leaves it)
--
-- ARGV[1]  the side's read mark field of the room hash
-- ARGV[2]  the side's unread counter field of the room hash
-- ARGV[3]  the byte that marks a message counted as unread for the side
--          (a letter: the first byte of the other side's sender)
-- ARGV[4]  seq to mark read up to (beyond the last = the last)
-- ARGV[5]  room id (the member of the unread index)
-- ARGV[6]  events channel
-- ARGV[7]  room event JSON up to the room hash
-- ARGV[8]  read event JSON up to the seq ('' = none)
--
-- Returns 1 or 0 (did the mark move) followed by the flat room hash, or an
-- empty array when the room does not exist.
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
  if KEYS[3] and n == 0 then
    redis.call('ZREM', KEYS[3], ARGV[5])
  end
end
local out = redis.call('HGETALL', room)
if moved == 1 then
  if ARGV[8] ~= '' then
    redis.call('PUBLISH', ARGV[6], ARGV[8] .. seq .. '}')
  end
  redis.call('PUBLISH', ARGV[6], ARGV[7] .. cjson.encode(out) .. '}')
end
table.insert(out, 1, moved)
return out
