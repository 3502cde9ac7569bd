-- Put before the scripts that make a room's events (scripts.go
-- withEmit): create, send, markread, block, fillvisitor, setvisitor, inbox,
-- note and delete.
--
-- A room's events are numbered (the room hash's "evn") and stamped (its
-- "evt": the Redis clock in ms, never below the stamp before it), and each
-- carries the stamp of the one before, so that event n of the room is
-- "n:t:p|event". The number orders the events; the stamp tells a new event
-- from an old one under the same number: when a failover loses the room's
-- last writes, its numbers go back, and its next events reuse numbers its
-- partition has logged already, with later stamps; the stamp before
-- chains each event to the one it follows, so that an event of the new
-- line is not logged after one of the old (lua/place.lua).

-- The Redis clock in ms.
local function nowMS()
  local now = redis.call('TIME')
  return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end

-- The room's next event number, stamp and the stamp before, recorded in
-- the room hash: "n:t:p".
local function nextEvent(room)
  local c = redis.call('HMGET', room, 'evn', 'evt')
  local t = math.max(tonumber(c[2] or '0'), nowMS())
  local n = tonumber(c[1] or '0') + 1
  local ts = string.format('%.0f', t)
  redis.call('HSET', room, 'evn', n, 'evt', ts)
  return n .. ':' .. ts .. ':' .. (c[2] or '0')
end

-- The room's next event: numbered, stamped and kept in the room's capped
-- outbox; the follow-up logs and publishes it (lua/place.lua). Returns
-- "n:t:p|event".
local function emit(room, outbox, ev)
  local e = nextEvent(room) .. '|' .. ev
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

-- The room's next version (its hash's "ver", which its partition's
-- placements compare: lua/place.lua refuses an older one): one more than
-- the last, and never below the Redis clock in ms, so that a room whose
-- last writes a failover lost still passes the versions its partition
-- recorded before the loss. Returns it as a string.
local function bumpVer(room)
  local v = math.max(tonumber(redis.call('HGET', room, 'ver') or '0') + 1, nowMS())
  local s = string.format('%.0f', v)
  redis.call('HSET', room, 'ver', s)
  return s
end
