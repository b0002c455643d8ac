-- Moves the expiry of a live lease held with the given token to Redis time + ttl; an expired lease, or one taken over
-- with a newer token, is not renewed.
-- KEYS[1] lease set, KEYS[2] holders hash; ARGV[1] operation id, ARGV[2] token, ARGV[3] ttl (ms)
-- Returns {0} when the token does not hold a live lease, {1, expiry} when renewed.
-- #include lease-fence
local now = now_ms()
if live_token(KEYS[1], KEYS[2], ARGV[1], now) ~= ARGV[2] then
  return {0}
end
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
return {1, expiry}
