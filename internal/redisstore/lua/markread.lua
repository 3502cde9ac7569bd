-- Move one side's read mark up and recount that side's unread counter from
-- the messages after the mark. The message list is never rewritten. When
-- the mark moved, publish the read event (when given: the admins' read,
-- for the visitor) and the room event.
-- KEYS: 1 room hash, 2 msgs list, 3 unread index
-- ARGV: 1 side (visitor|admin), 2 seq (beyond the last = the last; the
-- admin's 0 = everything, as the console marks a room read when it opens it;
-- the visitor's 0 = nothing read yet), 3 room id, 4 events channel,
-- 5 room event JSON up to the room hash, 6 read event JSON up to the seq
-- ('' = none)
-- Returns 1 or 0 (did the mark move) followed by the flat room hash, or an
-- empty array when the room does not exist.
local room = KEYS[1]
local h = redis.call('HMGET', room, 'seq', 'firstSeq', 'adminRead', 'visitorRead')
if not h[1] then
  return {}
end
local last, first = tonumber(h[1]), tonumber(h[2])
local admin = ARGV[1] == 'admin'
local markField, counter, other, old
if admin then
  markField, counter, other, old = 'adminRead', 'unread', '"sender":"visitor"', tonumber(h[3])
else
  markField, counter, other, old = 'visitorRead', 'visitorUnread', '"sender":"admin"', tonumber(h[4])
end
local seq = tonumber(ARGV[2])
if seq > last or (admin and seq <= 0) then
  seq = last
end
local moved = 0
if seq > old then
  moved = 1
  local n = 0
  if seq < last then
    -- The content is JSON-escaped, so the sender marker cannot occur in it.
    local items = redis.call('LRANGE', KEYS[2], math.max(seq + 1, first) - first, last - first)
    for i = 1, #items do
      if string.find(items[i], other, 1, true) then
        n = n + 1
      end
    end
  end
  redis.call('HSET', room, markField, seq, counter, n)
  if admin and n == 0 then
    redis.call('ZREM', KEYS[3], ARGV[3])
  end
end
local out = redis.call('HGETALL', room)
if moved == 1 then
  if ARGV[6] ~= '' then
    redis.call('PUBLISH', ARGV[4], ARGV[6] .. seq .. '}')
  end
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. cjson.encode(out) .. '}')
end
table.insert(out, 1, moved)
return out
