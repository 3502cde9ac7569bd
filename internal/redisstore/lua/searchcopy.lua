-- Copy entries of a global search zset of before the partitions (a term's,
-- or the search rooms) into one partition's twin (MigrateSearch), unless
-- the partition has a tombstone for the room: a room deleted meanwhile is
-- not indexed again. Scores only rise (ZADD GT), so copying twice, or
-- beside live writes, changes nothing. Every key is the partition's.
--
-- KEYS[1]  the partition's placements hash (room id -> placement or "D|…")
-- KEYS[2]  the partition's zset to copy into
--
-- ARGV     pairs: room id, score (ms)
--
-- Returns how many entries were copied.
local n = 0
for i = 1, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not (cur and string.sub(cur, 1, 2) == 'D|') then
    redis.call('ZADD', KEYS[2], 'GT', ARGV[i + 1], ARGV[i])
    n = n + 1
  end
end
return n
