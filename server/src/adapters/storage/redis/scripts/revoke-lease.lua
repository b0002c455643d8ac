-- Drops an operation lease; with a token, only when that token is the current holder's (expired or not), so a late
-- revoke never frees the lease of whoever took the operation over.
-- KEYS[1] lease set, KEYS[2] holders hash; ARGV[1] operation id, ARGV[2] token ('' = whoever holds it)
-- Returns 1 when a lease was dropped, 0 otherwise.
if ARGV[2] ~= '' then
  local holder = redis.call('HGET', KEYS[2], ARGV[1])
  if not holder or string.match(holder, '^(%d+)|') ~= ARGV[2] then
    return 0
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('ZREM', KEYS[1], ARGV[1])
