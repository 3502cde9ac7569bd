-- Append one message to a room, atomically. The Go side decides what the
-- message means (whose counter it bumps, whether a block refuses it); the
-- script only applies it in one step. It writes only the room's keys: where
-- the room now stands in the index, and the message event, are returned
-- for the follow-up (lua/place.lua), which logs and publishes the event.
--
-- KEYS[1]  room hash
-- KEYS[2]  msgs list (element i holds seq firstSeq+i)
-- KEYS[3]  dedup hash (clientId -> seq)
-- KEYS[4]  senders string (byte seq-1: the first byte of that message's sender)
-- KEYS[5]  the room's outbox (its newest events, for the follow-up)
-- KEYS[6]  notes list (its TTL follows the room's)
-- KEYS[7]  the room's attachments hash (id -> Attachment JSON)
-- KEYS[8]  the room's pending attachments zset (id -> send-by, ms)
--
-- ARGV[1]  room id
-- ARGV[2]  clientId ('' = none)
-- ARGV[3]  message JSON up to its seq: the script appends seq and '}'
-- ARGV[4]  sender, stored as the room's lastSender
-- ARGV[5]  content, stored as the room's lastContent
-- ARGV[6]  createdAt (ms)
-- ARGV[7]  the room hash counter this message bumps (the other side's unread)
-- ARGV[8]  refuse the message when the room is blocked (0|1)
-- ARGV[9]  max messages kept (0 = all)
-- ARGV[10] ttl (ms, 0 = none). The room's keys are given ttl + slack
--          (slack: 1% of it, at most an hour) and refreshed only when the
--          room's PTTL is at most ttl (a new room, or the last refresh is a
--          slack old, by Redis's clock): the room lives at least ttl
--          after its last message, at most ttl + slack, and most sends skip
--          the PEXPIREs
-- ARGV[11] events channel (unused: the follow-up publishes)
-- ARGV[12] message event JSON up to the message
-- ARGV[13] unused (was the admin log's length)
-- ARGV[14] the agent who wrote an admin message ('' for the visitor): an
--          unassigned room becomes theirs
-- ARGV[15] that agent's display name
-- ARGV[16] reopen a pending or resolved room (0|1: a visitor message)
-- ARGV[17] refuse the message: the sender's client key (a visitor's
--          address) is blocked (0|1). Its marker is a global key of its
--          own slot, read by Go just before, in the same batch as other
--          requests' calls (Store.Append)
-- ARGV[18..] the ids of the attachments the message carries: each must
--            be in the hash and still pending (not sent, not expired),
--            else nothing is stored ({'attachment_unknown'|
--            'attachment_used', id})
--
-- The search index is not written here: the indexer reads the message from
-- the partition's admin log (see docs/ARCHITECTURE.md, Search).
--
-- Returns {status, seq, message JSON, placement, identity, keep, event};
-- event is the message event ("n:t:p|JSON", for the follow-up: ok only); status is
-- ok, dup, notfound, blocked, attachment_unknown or attachment_used. The
-- message JSON is returned for dup ('' when the original was trimmed away
-- since); for ok the third element is the JSON array of the message's
-- attachments. The placement (ok and dup: a retried send applies its
-- follow-up again) is {ver, score, unread, status, assignee, labels,
-- snoozedUntil, sweep} (see lua/place.lua); a send bumps ver. For dup,
-- the fifth and sixth elements are the room's event number and stamp, so
-- the retried follow-up makes sure the events are logged. identity is
-- the room's identity hash when its keys were refreshed ('' otherwise), keep
-- their new TTL: the Go side refreshes the identity's entry, in its own slot.

-- emit (the room's next event into its outbox) is lua/lib/emit.lua, put
-- before this script by scripts.go.
local room, msgs, dedup, senders = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local roomID, cid, msgOpen, sender, content, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local counter, refuseBlocked = ARGV[7], ARGV[8] == '1'
local max, ttl = tonumber(ARGV[9]), tonumber(ARGV[10])
local sweep, identity = '', ''

-- Where the room stands now, for the follow-up (lua/place.lua).
local function placed()
  local p = redis.call('HMGET', room, 'ver', 'updatedAt', 'unread', 'status', 'assignee', 'labels', 'snoozedUntil')
  local unread = '0'
  if tonumber(p[3] or '0') > 0 then
    unread = '1'
  end
  return {p[1] or '0', p[2] or '0', unread, p[4] or 'open', p[5] or '', p[6] or '', p[7] or '', sweep}
end

local h = redis.call('HMGET', room, 'seq', 'firstSeq', 'updatedAt', 'blocked', counter, 'status', 'assignee', 'labels')
if not h[1] then
  return {'notfound'}
end
if refuseBlocked and h[4] == '1' then
  return {'blocked'}
end
if ARGV[17] == '1' then
  return {'blocked'}
end
local first = tonumber(h[2] or '1')
if cid ~= '' then
  local old = redis.call('HGET', dedup, cid)
  if old then
    local idx = tonumber(old) - first
    local msg = ''
    if idx >= 0 then
      msg = redis.call('LINDEX', msgs, idx) or ''
    end
    local ev = redis.call('HMGET', room, 'evn', 'evt')
    return {'dup', tonumber(old), msg, placed(), tonumber(ev[1] or '0'), tonumber(ev[2] or '0')}
  end
end

local slack = math.min(math.floor(ttl / 100), 3600000)
local keep = ttl + slack
local refresh = ttl > 0 and redis.call('PTTL', room) <= ttl
local attHash, attPending = KEYS[7], KEYS[8]
local attFirst = 18
local atts = {}
for i = attFirst, #ARGV do
  local meta = redis.call('HGET', attHash, ARGV[i])
  if not meta then
    return {'attachment_unknown', ARGV[i]}
  end
  local due = redis.call('ZSCORE', attPending, ARGV[i])
  if not due then
    return {'attachment_used', ARGV[i]}
  end
  if tonumber(due) < tonumber(at) then
    return {'attachment_unknown', ARGV[i]}
  end
  atts[#atts + 1] = meta
end

local seq = tonumber(h[1]) + 1
local attJSON = '[' .. table.concat(atts, ',') .. ']'
local msg = msgOpen .. seq .. '}'
if #atts > 0 then
  msg = msgOpen .. seq .. ',"attachments":' .. attJSON .. '}'
  for i = attFirst, #ARGV do
    redis.call('ZREM', attPending, ARGV[i])
  end
end
local n = redis.call('RPUSH', msgs, msg)
if max > 0 and n > max then
  redis.call('LTRIM', msgs, n - max, -1)
  first = seq - max + 1
end
redis.call('SETRANGE', senders, seq - 1, string.sub(sender, 1, 1))

-- updatedAt never goes back, even if instances' clocks disagree.
local updated = at
if h[3] and tonumber(h[3]) > tonumber(at) then
  updated = h[3]
end
redis.call('HSET', room, 'seq', seq, 'firstSeq', first, counter, tonumber(h[5] or '0') + 1,
  'lastSeq', seq, 'lastSender', sender, 'lastContent', content, 'lastAt', at, 'updatedAt', updated)
if cid ~= '' then
  redis.call('HSET', dedup, cid, seq)
  if ttl > 0 and not refresh and redis.call('PTTL', dedup) < 0 then
    -- Made by this send, between refreshes: it lives as long as the room.
    redis.call('PEXPIRE', dedup, redis.call('PTTL', room))
  end
  -- Forget the clientIds of trimmed messages, in one sweep each time the
  -- hash doubles the cap: amortised O(1) a send, and a busy room's dedup
  -- hash stays bounded like its list. (Retries come within seconds.)
  if max > 0 and redis.call('HLEN', dedup) > 2 * max then
    local all = redis.call('HGETALL', dedup)
    for i = 1, #all, 2 do
      if tonumber(all[i + 1]) < first then
        redis.call('HDEL', dedup, all[i])
      end
    end
  end
end

if refresh then
  redis.call('PEXPIRE', room, keep)
  redis.call('PEXPIRE', msgs, keep)
  redis.call('PEXPIRE', dedup, keep)
  redis.call('PEXPIRE', senders, keep)
  redis.call('PEXPIRE', KEYS[6], keep)
  redis.call('PEXPIRE', KEYS[5], keep)
  -- The room's files live as long as it: the sweeper deletes their
  -- bytes when it is due (see docs/ARCHITECTURE.md, Attachments).
  if redis.call('EXISTS', attHash) == 1 then
    redis.call('PEXPIRE', attHash, keep)
    redis.call('PEXPIRE', attPending, keep)
    local nextSweep = tonumber(at) + keep
    local p = redis.call('ZRANGE', attPending, 0, 0, 'WITHSCORES')
    if p[2] and tonumber(p[2]) < nextSweep then
      nextSweep = tonumber(p[2])
    end
    sweep = string.format('%.0f', nextSweep)
  end
  identity = redis.call('HGET', room, 'identity') or ''
end

-- The inbox: a visitor message reopens the room, the first agent to reply
-- to an unassigned one gets it (the follow-up moves it in the views).
local status, assignee = h[6] or 'open', h[7] or ''
if ARGV[16] == '1' and status ~= 'open' then
  redis.call('HDEL', room, 'snoozedUntil')
  status = 'open'
end
if not h[6] or status ~= h[6] then
  redis.call('HSET', room, 'status', status)
end
if ARGV[14] ~= '' and assignee == '' then
  redis.call('HSET', room, 'assignee', ARGV[14], 'assigneeName', ARGV[15])
end
bumpVer(room)

local hash = redis.call('HGETALL', room)
local ev = ARGV[12] .. msg .. ',"roomHash":' .. cjson.encode(hash) .. '}'
return {'ok', seq, attJSON, placed(), identity, keep, emit(room, KEYS[5], ev)}
