-- The entry of a verified identity (identity:HASH -> room id), in its own
-- slot. The Go side orders it around the room's creation so that a crash
-- never leaves two rooms for one identity, nor an entry that blocks it
-- forever: the entry is claimed first (claim), the room created next; an
-- entry whose room does not exist, and is not being created, is taken over
-- (claim with ARGV[3] naming it).
--
-- KEYS[1]  the identity's entry
--
-- ARGV[1]  mode: claim | refresh | release
-- ARGV[2]  room id
-- ARGV[3]  claim: the stale room id the entry may name and still be taken
--          ('' = none); refresh: the TTL (ms)
-- ARGV[4]  claim: the TTL (ms, 0 = none)
--
-- claim returns '' when the entry now names ARGV[2], else the room id it
-- names; refresh and release change the entry only while it names ARGV[2]
-- (release deletes it) and return 1 when they did, else 0.
local cur = redis.call('GET', KEYS[1])
local mode = ARGV[1]
if mode == 'claim' then
  if cur and cur ~= ARGV[2] and cur ~= ARGV[3] then
    return cur
  end
  if tonumber(ARGV[4]) > 0 then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
  else
    redis.call('SET', KEYS[1], ARGV[2])
  end
  return ''
end
if cur ~= ARGV[2] then
  return 0
end
if mode == 'refresh' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
