-- Append one message to a room and publish it, atomically.
-- KEYS: 1 room hash, 2 msgs list, 3 dedup hash, 4 rooms index, 5 unread index
-- ARGV: 1 room id, 2 sender (visitor|admin), 3 clientId ('' = none),
--       4 message JSON up to the seq, 5 message JSON after the seq,
--       6 createdAt (ms), 7 max messages kept (0 = all), 8 ttl (ms, 0 = none),
--       9 events channel, 10 event JSON up to the message, 11 content,
--       12 '1' to only look the clientId up (then status new when unknown;
--       only KEYS 1-3 and ARGV 2-3 matter)
-- Returns {status, seq, message JSON}; status is ok, dup, new, notfound or
-- blocked. The message JSON is only returned for dup (the caller built it for
-- ok), and is '' when the original was trimmed away since.
--
-- Under Redis Cluster the index keys and the channel are in other slots than
-- the room: this script is not Cluster-safe (see the package doc).
local room = KEYS[1]
if redis.call('EXISTS', room) == 0 then
  return {'notfound'}
end
local visitor = ARGV[2] == 'visitor'
if visitor and redis.call('HGET', room, 'blocked') == '1' then
  return {'blocked'}
end
local cid = ARGV[3]
if cid ~= '' then
  local old = redis.call('HGET', KEYS[3], cid)
  if old then
    local first = tonumber(redis.call('HGET', room, 'firstSeq'))
    local idx = tonumber(old) - first
    local msg = ''
    if idx >= 0 then
      msg = redis.call('LINDEX', KEYS[2], idx) or ''
    end
    return {'dup', tonumber(old), msg}
  end
end
if ARGV[12] == '1' then
  return {'new'}
end

local seq = redis.call('HINCRBY', room, 'seq', 1)
local msg = ARGV[4] .. seq .. ARGV[5]
local n = redis.call('RPUSH', KEYS[2], msg)
local max = tonumber(ARGV[7])
if max > 0 and n > max then
  redis.call('LTRIM', KEYS[2], n - max, -1)
  redis.call('HSET', room, 'firstSeq', seq - max + 1)
end

-- updatedAt never goes back, even if instances' clocks disagree.
local updated = ARGV[6]
local prev = redis.call('HGET', room, 'updatedAt')
if prev and tonumber(prev) > tonumber(updated) then
  updated = prev
end
-- Each counter counts the other side's messages only.
if visitor then
  redis.call('HINCRBY', room, 'unread', 1)
else
  redis.call('HINCRBY', room, 'visitorUnread', 1)
end
redis.call('HSET', room, 'lastSeq', seq, 'lastSender', ARGV[2],
  'lastContent', ARGV[11], 'lastAt', ARGV[6], 'updatedAt', updated)
if cid ~= '' then
  redis.call('HSET', KEYS[3], cid, seq)
  -- Forget the clientIds of trimmed messages, in one sweep each time the
  -- hash doubles the cap: amortised O(1) a send, and a busy room's dedup
  -- hash stays bounded like its list. (Retries come within seconds.)
  if max > 0 and redis.call('HLEN', KEYS[3]) > 2 * max then
    local first = seq - max + 1
    local all = redis.call('HGETALL', KEYS[3])
    for i = 1, #all, 2 do
      if tonumber(all[i + 1]) < first then
        redis.call('HDEL', KEYS[3], all[i])
      end
    end
  end
end

local ttl = tonumber(ARGV[8])
if ttl > 0 then
  redis.call('PEXPIRE', room, ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
redis.call('ZADD', KEYS[4], updated, ARGV[1])
if tonumber(redis.call('HGET', room, 'unread')) > 0 then
  redis.call('ZADD', KEYS[5], updated, ARGV[1])
end

local hash = redis.call('HGETALL', room)
redis.call('PUBLISH', ARGV[9], ARGV[10] .. msg .. ',"roomHash":' .. cjson.encode(hash) .. '}')
return {'ok', seq}
