-- Read what a search hit matched: where the room's latest hit of a term is
-- (its terms hash) and that message or note.
--
-- KEYS[1]  terms hash of the room (term -> "m<seq>", "n<k>" or "v")
-- KEYS[2]  msgs list (element i holds seq firstSeq+i)
-- KEYS[3]  notes list (element k-1 is the k-th note)
-- KEYS[4]  room hash
--
-- ARGV[1]  the term
--
-- Returns {where, JSON}: where is '' when the room no longer has the term;
-- JSON is the message or note, '' for 'v' and for a message trimmed away.
local where = redis.call('HGET', KEYS[1], ARGV[1])
if not where then
  return {''}
end
local kind, n = string.sub(where, 1, 1), tonumber(string.sub(where, 2))
if kind == 'm' and n then
  local idx = n - tonumber(redis.call('HGET', KEYS[4], 'firstSeq') or '1')
  if idx < 0 then
    return {where, ''}
  end
  return {where, redis.call('LINDEX', KEYS[2], idx) or ''}
end
if kind == 'n' and n then
  return {where, redis.call('LINDEX', KEYS[3], n - 1) or ''}
end
return {where, ''}
