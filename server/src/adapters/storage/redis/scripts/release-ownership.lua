-- Drops a scheduler claim only for its holder, so a late release cannot free a claim another owner took since.
-- KEYS[1] claim key; ARGV[1] owner
-- Returns 1 when released, 0 when the caller did not hold the claim.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
