-- Replaces an existing room hash and its scores; announces the status only when it changed. The existence check is
-- here, in the same script as the writes, so an update racing a delete can never bring the room back (Maestro #721).
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set
-- ARGV[1] room id, ARGV[2] status score, ARGV[3] ping score (epoch ms), ARGV[4] running matches,
-- ARGV[5] status channel, ARGV[6] status message, ARGV[7..] hash field/value pairs
-- Returns 0 when the room does not exist, 1 when updated.
local previous = redis.call('HGET', KEYS[1], 'status')
if not previous then
  return 0
end
-- Replace rather than merge: optional fields the new room leaves out must go.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
if previous ~= ARGV[2] then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return 1
