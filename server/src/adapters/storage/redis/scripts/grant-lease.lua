-- Grants an operation lease with a new fencing token unless a live one is held. Expiry is Redis time + ttl.
-- KEYS[1] lease set (score = expiry epoch ms), KEYS[2] holders hash, KEYS[3] fencing token counter
-- ARGV[1] operation id, ARGV[2] ttl (ms), ARGV[3] owner
-- Returns {0} when a live lease is held, {1, token, expiry} when granted.
-- #include lease-fence
local now = now_ms()
if live_token(KEYS[1], KEYS[2], ARGV[1], now) then
  return {0}
end
local token = redis.call('INCR', KEYS[3])
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], token .. '|' .. ARGV[3])
return {1, token, expiry}
