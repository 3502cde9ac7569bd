-- Fill in a room's visitor details where they are still empty: a returning
-- visitor may give a name or email later, but never overwrites one. When a
-- detail was filled in, the room event is published. Only the visitor fills
-- in details, so a blocked room refuses them.
--
-- KEYS[1]  room hash
-- KEYS[2]  the room's outbox (its newest events, for the follow-up)
--
-- ARGV[1]  visitor name ('' = not given)
-- ARGV[2]  visitor email ('' = not given)
-- ARGV[3]  page ('' = not given)
-- ARGV[4]  events channel
-- ARGV[5]  room event JSON up to the room hash
-- ARGV[6]  unused (was the admin log's length)
--
-- Search index (the block at the end; see docs/ARCHITECTURE.md, Search):
-- KEYS[3]  terms hash of the room (term -> where its latest hit is)
-- ARGV[7]  how long the terms hash outlives the room (ms)
-- ARGV[8]  how many of ARGV[10..] are the name's (the rest are the email's)
-- ARGV[9]  room id
-- ARGV[10..] the terms of the name, then of the email
--
-- Returns {event, field, value, ...}: the room event ("n:t:p|JSON" for the
-- follow-up, '' when nothing was filled) then the flat room hash, an empty array when the room does not exist,
-- or {'blocked'} when the visitor is blocked (nothing is set). When it
-- indexed a detail filled in now, the hash is followed by the pair
-- '_searchFilled', 'n', 'e' or 'ne' (name, email): the partition's search
-- sets follow for those (lua/searchput.lua).

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local blocked = redis.call('HGET', KEYS[1], 'blocked')
if not blocked then
  return {}
end
if blocked == '1' then
  return {'blocked'}
end
local fields = {'name', 'email', 'page'}
local changed = false
local filled = {}
for i, f in ipairs(fields) do
  if ARGV[i] ~= '' and (redis.call('HGET', KEYS[1], f) or '') == '' then
    redis.call('HSET', KEYS[1], f, ARGV[i])
    changed = true
    filled[f] = true
  end
end

-- Search index: the details filled in now ('v'), scored by the room's
-- updatedAt.
if filled.name or filled.email then
  local K, A = 3, 7
  local grace, names, roomID = tonumber(ARGV[A]), tonumber(ARGV[A + 1]), ARGV[A + 2]
  local hset = {'HSET', KEYS[K]}
  for j = 1, #ARGV - A - 2 do -- 1-based among the terms
    if (j <= names and filled.name) or (j > names and filled.email) then
      hset[#hset + 1] = ARGV[A + 2 + j]
      hset[#hset + 1] = 'v'
    end
  end
  if #hset > 2 then
    redis.call(unpack(hset))
    local pttl = redis.call('PTTL', KEYS[1])
    if pttl > 0 then
      redis.call('PEXPIRE', KEYS[K], pttl + grace)
    end
  end
end
local hash = redis.call('HGETALL', KEYS[1])
local event = ''
if changed then
  local ev = ARGV[5] .. cjson.encode(hash) .. '}'
  event = emit(KEYS[1], KEYS[2], ev)
end
table.insert(hash, 1, event)
if filled.name or filled.email then
  hash[#hash + 1] = '_searchFilled'
  hash[#hash + 1] = (filled.name and 'n' or '') .. (filled.email and 'e' or '')
end
return hash
