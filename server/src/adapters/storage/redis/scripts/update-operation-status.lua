-- Sets an operation's status and moves its id to the stage set of that status, keeping its score (creation time).
-- KEYS[1] operation hash, KEYS[2] target stage set, KEYS[3..4] the other stage sets
-- ARGV[1] id, ARGV[2] status (Maestro's number), ARGV[3] score to use if the id is in no set (should not happen)
-- Returns 0 when the operation does not exist, 1 when updated.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score then
  return 1
end
for i = 3, 4 do
  local found = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if found then
    score = found
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
redis.call('ZADD', KEYS[2], score or ARGV[3], ARGV[1])
return 1
