-- Creates an operation hash and lists its id in exactly one stage set, atomically.
-- KEYS[1] operation hash, KEYS[2] stage set to list it in, KEYS[3..4] the other stage sets, KEYS[5] sequence counter
-- ARGV[1] score (createdAt epoch ms), ARGV[2] TTL seconds (0 = none), ARGV[3] id, ARGV[4..] hash field/value pairs
-- Returns 0 when the operation already exists, 1 when created.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
-- A hash that expired may have left its id in another stage set; an id lives in one set only.
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
-- Operations created within the same millisecond keep their creation order: a per-scheduler counter adds a fraction.
local seq = redis.call('INCR', KEYS[5]) % 1000
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + seq / 1000, ARGV[3])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
end
return 1
