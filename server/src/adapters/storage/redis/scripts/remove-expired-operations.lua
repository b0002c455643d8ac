-- Unlists ids whose operation hash is gone (expired by TTL). Checks each hash again here, so an id whose operation
-- exists is never dropped.
-- KEYS[1..3] the stage sets, KEYS[4..] operation hashes; ARGV the ids, in the order of their hashes
-- Returns the number of ids removed.
local removed = 0
for i = 4, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local id = ARGV[i - 3]
    for j = 1, 3 do
      redis.call('ZREM', KEYS[j], id)
    end
    removed = removed + 1
  end
end
return removed
