-- Extends a scheduler claim only for its holder: a claim that expired or passed to another owner stays as it is.
-- KEYS[1] claim key; ARGV[1] owner, ARGV[2] ttl (ms)
-- Returns 1 when renewed, 0 when the caller does not hold the claim.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
