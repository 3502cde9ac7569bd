-- Define or change a label: names are unique (case-insensitive) and there
-- are at most so many labels. Publishes the whole list.
--
-- KEYS[1]  labels hash (label id -> JSON {id, name, color})
-- KEYS[2]  admin event log (a capped stream; the publish carries its entry id)
--
-- ARGV[1]  label id
-- ARGV[2]  label JSON
-- ARGV[3]  its name, lower-cased
-- ARGV[4]  new (1: refuse an id that exists) or a change (0: refuse one
--          that does not)
-- ARGV[5]  most labels
-- ARGV[6]  events channel
-- ARGV[7]  labels event JSON up to the list, which the script appends
-- ARGV[8]  admin log length kept (approximately)
--
-- Returns 1, 0 when the name is taken, -1 when a new one is one too many,
-- -2 when a change names a label that does not exist.
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[4] == '1' then
  if exists or redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then
    return -1
  end
elseif not exists then
  return -2
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] and string.lower(cjson.decode(all[i + 1]).name) == ARGV[3] then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local list = redis.call('HVALS', KEYS[1])
local ev = ARGV[7] .. '[' .. table.concat(list, ',') .. ']}'
redis.call('PUBLISH', ARGV[6], redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*', 'e', ev) .. ev)
return 1
