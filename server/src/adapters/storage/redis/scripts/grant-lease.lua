-- Grants a lease unless one is held. A lease is held while its expiry (the score) is after now.
-- KEYS[1] lease set; ARGV[1] operation id, ARGV[2] now (epoch ms), ARGV[3] new expiry (epoch ms)
-- Returns 0 when a lease is held, 1 when granted.
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
