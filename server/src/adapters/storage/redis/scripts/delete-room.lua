-- Deletes a room hash and unlists it from the status, ping and occupancy sets and the allocation indexes, atomically.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (unused); ARGV[1] room id
-- Returns 0 when there was no trace of the room, 1 when deleted.
reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], false)
local removed = redis.call('DEL', KEYS[1])
for i = 2, 4 do
  removed = removed + redis.call('ZREM', KEYS[i], ARGV[1])
end
if removed == 0 then
  return 0
end
return 1
