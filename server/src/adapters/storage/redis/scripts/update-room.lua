-- Replaces an existing room hash and its scores and indexes; announces the status only when it changed. The existence
-- and revision checks are here, in the same script as the writes, so an update racing a delete can never bring the
-- room back (Maestro #721) and an update computed from an older read never overwrites a newer write.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (unused)
-- ARGV[1] room id, ARGV[2] status score, ARGV[3] ping score (epoch ms), ARGV[4] running matches,
-- ARGV[5] status channel, ARGV[6] status message, ARGV[7] expected revision ('' for none), ARGV[8..] field/value pairs
-- Returns {0} when the room does not exist, {-1, stored revision} on a revision mismatch, {1} when updated.
local previous = redis.call('HMGET', KEYS[1], 'status', 'revision')
if not previous[1] then
  return { 0 }
end
local revision = tonumber(previous[2]) or 0
if ARGV[7] ~= '' and tonumber(ARGV[7]) ~= revision then
  return { -1, revision }
end
reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], false)
-- Replace rather than merge: optional fields the new room leaves out must go.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('HSET', KEYS[1], 'revision', revision + 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], true)
if previous[1] ~= ARGV[2] then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return { 1 }
