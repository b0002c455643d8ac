-- Applies a room's ping in one round trip: reads the room and its instance, composes the status (ping × instance,
-- maestro.md §3.4 — this mirrors applyPingToRoom in core/entities/room-ping.ts; the RoomStorage contract runs the
-- same table against both), refuses invalid transitions without writing, then writes and publishes a change.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] instance map (podMap)
-- ARGV[1] room id, ARGV[2] ping status index (pingStatuses), ARGV[3] running matches, ARGV[4] metadata JSON ('' keeps
-- it), ARGV[5] now (epoch ms), ARGV[6] max matches, ARGV[7] allocation TTL (ms), ARGV[8] status channel
-- Returns {'not_found'}, {'refused', from score, to score}, or {'ok', field, value, …} (the room's HGETALL).
local fields = redis.call('HMGET', KEYS[1], 'status', 'allocated_at', 'running_matches')
if not fields[1] then
  return { 'not_found' }
end
local from = tonumber(fields[1])
local ping = tonumber(ARGV[2])
local running = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
local maxMatches = tonumber(ARGV[6])
local allocatedAt = tonumber(fields[2])

-- A multi-match allocation's slot outlives pings reporting fewer matches until the allocation TTL passes.
if maxMatches > 1 and allocatedAt and now - allocatedAt <= tonumber(ARGV[7]) then
  local stored = tonumber(fields[3]) or 0
  if stored > running then
    running = stored
  end
end

-- Room status scores (RoomStatus in game-room.ts).
local PENDING, UNREADY, READY, OCCUPIED, TERMINATING, ERROR, TERMINATED, ACTIVE, ALLOCATED = 0, 1, 2, 3, 4, 5, 6, 7, 8
local names = {
  [0] = 'pending', 'unready', 'ready', 'occupied', 'terminating', 'error', 'terminated', 'active', 'allocated',
}
-- Ping status indexes (pingStatuses in game-room.ts).
local PING_UNKNOWN, PING_READY, PING_TERMINATING, PING_TERMINATED = 0, 1, 3, 4

local instance = 'unknown'
local json = redis.call('HGET', KEYS[5], ARGV[1])
if json then
  local ok, decoded = pcall(cjson.decode, json)
  if ok and type(decoded) == 'table' and type(decoded.status) == 'table' and type(decoded.status.type) == 'string' then
    instance = decoded.status.type
  end
end

-- composeRoomStatus
local to
if instance == 'error' then
  to = ERROR
elseif ping == PING_TERMINATED then
  to = TERMINATED
elseif ping == PING_TERMINATING or instance == 'terminating' then
  to = TERMINATING
elseif instance ~= 'ready' then
  to = PENDING
elseif ping == PING_UNKNOWN then
  to = UNREADY
elseif ping == PING_READY then
  to = READY
else
  to = OCCUPIED
end

-- calculateRoomStatus: an allocation holds a ready room for the TTL; multi-match rooms go by running matches.
if to == READY and from == ALLOCATED and allocatedAt and now - allocatedAt <= tonumber(ARGV[7]) then
  to = ALLOCATED
elseif maxMatches > 1 and (to == READY or to == OCCUPIED) then
  if running < 1 then
    to = READY
  elseif running >= maxMatches then
    to = OCCUPIED
  else
    to = ACTIVE
  end
end

-- isValidTransition
local valid = {
  [PENDING] = { READY, TERMINATING, UNREADY, ERROR, OCCUPIED, ACTIVE },
  [READY] = { OCCUPIED, ALLOCATED, TERMINATING, UNREADY, ERROR, ACTIVE },
  [UNREADY] = { TERMINATING, OCCUPIED, READY, ERROR, PENDING, ACTIVE },
  [ACTIVE] = { READY, OCCUPIED, TERMINATING, UNREADY, ERROR },
  [OCCUPIED] = { READY, TERMINATING, UNREADY, ERROR, ACTIVE },
  [ALLOCATED] = { ACTIVE, OCCUPIED, READY, TERMINATING, UNREADY, ERROR },
  [ERROR] = { TERMINATING, UNREADY, READY },
  [TERMINATING] = { ERROR, UNREADY, READY, TERMINATED },
  [TERMINATED] = {},
}
if from ~= to then
  local allowed = false
  for _, s in ipairs(valid[from] or {}) do
    if s == to then
      allowed = true
      break
    end
  end
  if not allowed then
    return { 'refused', from, to }
  end
end

redis.call('HSET', KEYS[1], 'status', to, 'ping_status', ARGV[2], 'running_matches', running, 'last_ping_at', ARGV[5])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'metadata', ARGV[4])
end
-- occupiedAt: set on entering occupied, kept while occupied, cleared otherwise.
if to ~= OCCUPIED then
  redis.call('HDEL', KEYS[1], 'occupied_at')
elseif from ~= OCCUPIED then
  redis.call('HSET', KEYS[1], 'occupied_at', ARGV[5])
end
redis.call('ZADD', KEYS[2], to, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[4], running, ARGV[1])
if from ~= to then
  redis.call('PUBLISH', ARGV[8], cjson.encode({ roomId = ARGV[1], status = names[to] }))
end
local room = redis.call('HGETALL', KEYS[1])
table.insert(room, 1, 'ok')
return room
