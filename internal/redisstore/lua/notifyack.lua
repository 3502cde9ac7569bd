-- Acknowledge a claim of notifyclaim.lua: its room's mail was enqueued or
-- decided against. The claim is removed only while it is still this one
-- (the score is the token the claim returned): a claim that ran out and
-- was taken again by another notifier is that notifier's. The due set is
-- not touched, so a due entry scheduled while the claim was held survives.
--
-- KEYS[1]  claimed set (zset: room id -> lease end, ms)
--
-- ARGV[1]  room id
-- ARGV[2]  token (the lease end the claim returned, ms)
--
-- Returns 1 when the claim was removed, 0 when it was no longer this one.
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
