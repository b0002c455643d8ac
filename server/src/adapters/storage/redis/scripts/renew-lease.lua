-- Moves the expiry of a held lease. An expired lease counts as absent and is not renewed.
-- KEYS[1] lease set; ARGV[1] operation id, ARGV[2] now (epoch ms), ARGV[3] new expiry (epoch ms)
-- Returns 0 when no lease is held, 1 when renewed.
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) <= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
