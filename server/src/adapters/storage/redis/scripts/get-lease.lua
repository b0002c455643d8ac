-- Reads the live lease of an operation by Redis time.
-- KEYS[1] lease set, KEYS[2] holders hash; ARGV[1] operation id
-- Returns {} when no lease is live, {holder ('<token>|<owner>'), expiry} otherwise.
-- #include lease-fence
local now = now_ms()
if not live_token(KEYS[1], KEYS[2], ARGV[1], now) then
  return {}
end
return {redis.call('HGET', KEYS[2], ARGV[1]), redis.call('ZSCORE', KEYS[1], ARGV[1])}
