-- Deletes a room hash and unlists it from the status, ping and occupancy sets, atomically.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set; ARGV[1] room id
-- Returns 0 when there was no trace of the room, 1 when deleted.
local removed = redis.call('DEL', KEYS[1])
for i = 2, 4 do
  removed = removed + redis.call('ZREM', KEYS[i], ARGV[1])
end
if removed == 0 then
  return 0
end
return 1
