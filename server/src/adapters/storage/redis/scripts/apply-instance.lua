-- Recomputes a room's status from its stored instance after a runtime event, in one step (applyInstanceToRoom in
-- core/entities/room-ping.ts): a ping or an allocation that landed since the caller's last read is never overwritten.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (podMap)
-- ARGV[1] room id, ARGV[2] now (epoch ms), ARGV[3] max matches, ARGV[4] allocation TTL (ms), ARGV[5] status channel
-- Returns {'not_found'} or {'ok', field, value, …} (the room's HGETALL, changed or not).
local f = redis.call('HMGET', KEYS[1], 'status', 'ping_status', 'running_matches', 'allocated_at', 'removing')
if not f[1] then
  return { 'not_found' }
end
local from = tonumber(f[1])
local now = tonumber(ARGV[2])
local composed = composeStatus(tonumber(f[2]), instanceStatus(KEYS[7], ARGV[1]))
local to = keepClaimed(
  f[5],
  calculateStatus(from, composed, tonumber(f[3]) or 0, tonumber(f[4]), now, tonumber(ARGV[3]), tonumber(ARGV[4]))
)
if to ~= from and validTransition(from, to) then
  reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], false)
  redis.call('HSET', KEYS[1], 'status', to)
  if to == OCCUPIED then
    redis.call('HSET', KEYS[1], 'occupied_at', ARGV[2])
  else
    redis.call('HDEL', KEYS[1], 'occupied_at')
  end
  redis.call('HINCRBY', KEYS[1], 'revision', 1)
  redis.call('ZADD', KEYS[2], to, ARGV[1])
  reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], true)
  publishStatus(ARGV[5], ARGV[1], to)
end
local room = redis.call('HGETALL', KEYS[1])
table.insert(room, 1, 'ok')
return room
