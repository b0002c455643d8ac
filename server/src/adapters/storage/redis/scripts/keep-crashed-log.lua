-- Keeps a crashed room's log tail as the newest of its scheduler and drops the oldest beyond the number kept; both
-- keys expire a while after the last crash, so a scheduler deleted without cleanup leaves nothing for good.
-- KEYS[1] hash room id -> tail, KEYS[2] sorted set of room ids scored by the time kept (epoch ms);
-- ARGV[1] room id, ARGV[2] tail, ARGV[3] time kept, ARGV[4] how many to keep, ARGV[5] seconds to live.
-- Returns how many older tails were dropped.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local dropped = redis.call('ZRANGE', KEYS[2], 0, -(tonumber(ARGV[4]) + 1))
for _, id in ipairs(dropped) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return #dropped
