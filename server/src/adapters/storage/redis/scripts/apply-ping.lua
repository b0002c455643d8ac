-- Applies a room's ping in one round trip: reads the room and its instance, composes the status (ping × instance,
-- maestro.md §3.4 — this mirrors applyPingToRoom in core/entities/room-ping.ts; the RoomStorage contract runs the
-- same table against both), refuses invalid transitions without writing, then writes, reindexes and publishes.
-- KEYS[1] room hash, KEYS[2] status set, KEYS[3] ping set, KEYS[4] occupancy set, KEYS[5] free set,
-- KEYS[6] free metadata set, KEYS[7] instance map (podMap)
-- ARGV[1] room id, ARGV[2] ping status index (pingStatuses), ARGV[3] running matches, ARGV[4] metadata JSON ('' keeps
-- it), ARGV[5] now (epoch ms), ARGV[6] max matches, ARGV[7] allocation TTL (ms), ARGV[8] status channel,
-- ARGV[9] the metadata's selector pairs as a JSON array ('' keeps them), ARGV[10] '1' = answer only the new status
-- Returns {'not_found'}, {'refused', from score, to score}, {'ok', to score} (ARGV[10] '1'), or
-- {'ok', field, value, …} (the room's HGETALL).
local fields = redis.call(
  'HMGET', KEYS[1], 'status', 'allocated_at', 'running_matches', 'removing', 'is_validation_room', 'meta_pairs',
  'occupied_at'
)
if not fields[1] then
  return { 'not_found' }
end
local from = tonumber(fields[1])
local ping = tonumber(ARGV[2])
local running = tonumber(ARGV[3])
local now = tonumber(ARGV[5])
local maxMatches = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local allocatedAt = tonumber(fields[2])
local storedRunning = tonumber(fields[3]) or 0

-- A multi-match allocation's slot outlives pings reporting fewer matches until the allocation TTL passes.
if maxMatches > 1 and allocatedAt and now - allocatedAt <= ttl then
  if storedRunning > running then
    running = storedRunning
  end
end

local composed = composeStatus(ping, instanceStatus(KEYS[7], ARGV[1]))
local to = keepClaimed(fields[4], calculateStatus(from, composed, running, allocatedAt, now, maxMatches, ttl))
if not validTransition(from, to) then
  return { 'refused', from, to }
end

-- Most pings repeat the last one: the room keeps its place in the allocation indexes, its status and its matches, so
-- only the hash and the ping time are written (the status and occupancy sets always hold the hash's values).
local pairsBefore = fields[6] or ''
local pairsAfter = pairsBefore
if ARGV[4] ~= '' then
  pairsAfter = ARGV[9]
end
local relist = pairsBefore ~= pairsAfter
  or heldMatches(from, storedRunning, fields[5], fields[4]) ~= heldMatches(to, running, fields[5], fields[4])
if relist then
  reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], false)
end
redis.call('HSET', KEYS[1], 'status', to, 'ping_status', ARGV[2], 'running_matches', running, 'last_ping_at', ARGV[5])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'metadata', ARGV[4], 'meta_pairs', ARGV[9])
end
-- occupiedAt: set on entering occupied, kept while occupied, cleared otherwise.
if to ~= OCCUPIED then
  if fields[7] then
    redis.call('HDEL', KEYS[1], 'occupied_at')
  end
elseif from ~= OCCUPIED then
  redis.call('HSET', KEYS[1], 'occupied_at', ARGV[5])
end
redis.call('HINCRBY', KEYS[1], 'revision', 1)
if from ~= to then
  redis.call('ZADD', KEYS[2], to, ARGV[1])
end
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
if not fields[3] or storedRunning ~= running then
  redis.call('ZADD', KEYS[4], running, ARGV[1])
end
if relist then
  reindex(KEYS[1], KEYS[5], KEYS[6], ARGV[1], true)
end
if from ~= to then
  publishStatus(ARGV[8], ARGV[1], to)
end
if ARGV[10] == '1' then
  return { 'ok', to }
end
local room = redis.call('HGETALL', KEYS[1])
table.insert(room, 1, 'ok')
return room
