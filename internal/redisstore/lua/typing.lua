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
--
-- Returns 1 (published), 0 (within the window: dropped) or -1 (no room).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
