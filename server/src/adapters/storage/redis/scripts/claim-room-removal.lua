-- Claims a room for removal if the guard allows it (removalRefusal in core/entities/room-removal.ts), in the same
-- step as the check: the room turns terminating, leaves the allocation indexes and is marked removing, so an
-- allocation and a guarded removal never both take it.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (unused)
-- ARGV[1] room id, ARGV[2] guard ('any', 'idle' or 'allocatedBefore'), ARGV[3] now (idle) or since (allocatedBefore),
-- epoch ms, ARGV[4] allocation TTL in ms (idle), ARGV[5] status channel
-- Returns {'not_found'}, {'refused', reason, field, value, …} or {'claimed', field, value, …} (HGETALL).
local f = redis.call('HMGET', KEYS[1], 'status', 'allocated_at')
if not f[1] then
  return { 'not_found' }
end
local from = tonumber(f[1])
local allocatedAt = tonumber(f[2])
local guard = ARGV[2]
local reason = nil
if guard == 'idle' then
  if from == ALLOCATED or from == ACTIVE or from == OCCUPIED then
    reason = 'room ' .. ARGV[1] .. ' is ' .. STATUS_NAMES[from]
  elseif allocatedAt and tonumber(ARGV[3]) - allocatedAt <= tonumber(ARGV[4]) then
    reason = 'room ' .. ARGV[1] .. ' was allocated within the allocation TTL'
  end
elseif guard == 'allocatedBefore' then
  if allocatedAt and allocatedAt >= tonumber(ARGV[3]) then
    reason = 'room ' .. ARGV[1] .. ' was allocated after it was found expired'
  end
end
if reason then
  local room = redis.call('HGETALL', KEYS[1])
  table.insert(room, 1, reason)
  table.insert(room, 1, 'refused')
  return room
end

reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], false)
local to = TERMINATING
if from == TERMINATED or from == ERROR then
  to = from
end
redis.call('HSET', KEYS[1], 'status', to, 'removing', '1')
redis.call('HDEL', KEYS[1], 'occupied_at')
redis.call('HINCRBY', KEYS[1], 'revision', 1)
redis.call('ZADD', KEYS[2], to, ARGV[1])
if to ~= from then
  publishStatus(ARGV[5], ARGV[1], to)
end
local room = redis.call('HGETALL', KEYS[1])
table.insert(room, 1, 'claimed')
return room
