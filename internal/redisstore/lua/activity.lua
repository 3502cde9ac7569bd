-- Tell the agents that one of them is viewing or typing in a room, at most
-- once per throttle window per agent and activity (a key of the room's own
-- slot, set only when it is not there). Like typing, it is not logged.
--
-- KEYS[1]  room hash
-- KEYS[2]  the agent's activity throttle key
--
-- ARGV[1]  window (ms)
-- ARGV[2]  events channel
-- ARGV[3]  agent.activity event JSON
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
