-- Creates a room hash at revision 1, lists it in the status, ping and occupancy sets and the allocation indexes, then
-- announces its status, atomically.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (unused)
-- ARGV[1] room id, ARGV[2] status score, ARGV[3] ping score (epoch ms), ARGV[4] running matches,
-- ARGV[5] status channel, ARGV[6] status message, ARGV[7..] hash field/value pairs
-- Returns 0 when the room already exists, 1 when created.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('HSET', KEYS[1], 'revision', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], true)
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
