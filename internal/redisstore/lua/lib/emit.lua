-- Put before the scripts that make a room's events (scripts.go
-- withEmit): create, send, markread, block, fillvisitor, setvisitor, inbox
-- and note.
--
-- The room's next event: numbered (the room hash's "evn") and kept in the
-- room's capped outbox; the follow-up logs and publishes it
-- (lua/place.lua). Returns "n|event".
local function emit(room, outbox, ev)
  local e = redis.call('HINCRBY', room, 'evn', 1) .. '|' .. ev
  local len = redis.call('RPUSH', outbox, e)
  if len > 64 then
    redis.call('LTRIM', outbox, -64, -1)
  elseif len == 1 then
    -- A new outbox lives as long as the room (send.lua's refreshes
    -- renew it with the room's other keys).
    local t = redis.call('PTTL', room)
    if t > 0 then
      redis.call('PEXPIRE', outbox, t)
    end
  end
  return e
end
