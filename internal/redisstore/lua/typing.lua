-- Tell the other side of a room that one side is typing, at most once per
-- throttle window: the window is a key of the room's own slot, set only when
-- it is not there, and only then is the event published.
--
-- KEYS[1]  room hash
-- KEYS[2]  the side's typing throttle key
--
-- ARGV[1]  window (ms)
-- ARGV[2]  events channel
-- ARGV[3]  typing event JSON
-- ARGV[4]  refuse when the room is blocked (0|1)
--
-- Returns 1 (published), 0 (within the window: dropped), -1 (no room) or -2
-- (blocked: dropped).
local blocked = redis.call('HGET', KEYS[1], 'blocked')
if not blocked then
  return -1
end
if ARGV[4] == '1' and blocked == '1' then
  return -2
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
