-- Takes a free scheduler claim, or extends it when the caller already holds it.
-- KEYS[1] claim key; ARGV[1] owner, ARGV[2] ttl (ms)
-- Returns 1 when the caller holds the claim afterwards, 0 when someone else does.
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
