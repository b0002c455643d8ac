-- Shared by the room scripts (prepended to each): status composition, transitions, and the allocation indexes.
-- Mirrors core/entities (game-room.ts, room-ping.ts, room-removal.ts); the RoomStorage contract runs both.

-- Room status scores (RoomStatus in game-room.ts).
local PENDING, UNREADY, READY, OCCUPIED, TERMINATING, ERROR, TERMINATED, ACTIVE, ALLOCATED = 0, 1, 2, 3, 4, 5, 6, 7, 8
local STATUS_NAMES = {
  [0] = 'pending', 'unready', 'ready', 'occupied', 'terminating', 'error', 'terminated', 'active', 'allocated',
}
-- Ping status indexes (pingStatuses in game-room.ts).
local PING_UNKNOWN, PING_READY, PING_TERMINATING, PING_TERMINATED = 0, 1, 3, 4

-- composeRoomStatus: ping × instance (maestro.md §3.4).
local function composeStatus(ping, instance)
  if instance == 'error' then
    return ERROR
  elseif ping == PING_TERMINATED then
    return TERMINATED
  elseif ping == PING_TERMINATING or instance == 'terminating' then
    return TERMINATING
  elseif instance ~= 'ready' then
    return PENDING
  elseif ping == PING_UNKNOWN then
    return UNREADY
  elseif ping == PING_READY then
    return READY
  end
  return OCCUPIED
end

-- calculateRoomStatus: an allocation holds a ready room for the TTL; multi-match rooms go by running matches.
local function calculateStatus(from, composed, running, allocatedAt, now, maxMatches, ttl)
  if composed == READY and from == ALLOCATED and allocatedAt and now - allocatedAt <= ttl then
    return ALLOCATED
  end
  if maxMatches <= 1 or (composed ~= READY and composed ~= OCCUPIED) then
    return composed
  end
  if running < 1 then
    return READY
  elseif running >= maxMatches then
    return OCCUPIED
  end
  return ACTIVE
end

-- keepClaimed: a room claimed for removal stays terminating unless it is gone or failed.
local function keepClaimed(removing, status)
  if removing ~= '1' or status == TERMINATED or status == ERROR then
    return status
  end
  return TERMINATING
end

local VALID = {
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

-- isValidTransition
local function validTransition(from, to)
  if from == to then
    return true
  end
  for _, s in ipairs(VALID[from] or {}) do
    if s == to then
      return true
    end
  end
  return false
end

-- The instance status type stored for a room in the podMap hash ('unknown' when absent or unreadable).
local function instanceStatus(podMap, id)
  local json = redis.call('HGET', podMap, id)
  if json then
    local ok, decoded = pcall(cjson.decode, json)
    if ok and type(decoded) == 'table' and type(decoded.status) == 'table' and type(decoded.status.type) == 'string' then
      return decoded.status.type
    end
  end
  return 'unknown'
end

-- Allocation indexes. The free set lists the rooms that can take a match now, scored by minus the matches they hold
-- (ready rooms 0), so the fullest come first and ties go by id. The free metadata set holds, for every scalar
-- metadata pair of such a room, '<pair>\0<rank>\0<id>' with score 0: a lexicographic range finds the rooms with
-- one pair in the same order (rank = 10^9 - matches held, zero padded). Pairs are written by the caller (meta_pairs,
-- a JSON array made by metadataPairs in metadata-selector.ts), so no key or pair text is built from metadata here.
local RANK_BASE = 1000000000

local function rankText(held)
  return string.format('%010d', RANK_BASE - held)
end

-- Matches held as the free set counts them, or nil when the room cannot take a match.
local function heldMatches(status, running, validation, removing)
  if validation == '1' or removing == '1' then
    return nil
  end
  if status == READY then
    return 0
  end
  if (status == ACTIVE or status == ALLOCATED) and running >= 1 then
    return running
  end
  return nil
end

local function metaPairs(json)
  if not json or json == '' then
    return {}
  end
  local ok, list = pcall(cjson.decode, json)
  if ok and type(list) == 'table' then
    return list
  end
  return {}
end

local INDEX_FIELDS = { 'status', 'running_matches', 'is_validation_room', 'removing', 'meta_pairs' }

-- Lists (add = true) or unlists the room in both indexes as its hash describes it now.
local function reindex(roomKey, freeKey, metaKey, id, add)
  local f = redis.call('HMGET', roomKey, unpack(INDEX_FIELDS))
  if not f[1] then
    redis.call('ZREM', freeKey, id)
    return
  end
  local held = heldMatches(tonumber(f[1]), tonumber(f[2]) or 0, f[3], f[4])
  if not held then
    if not add then
      redis.call('ZREM', freeKey, id)
    end
    return
  end
  local rank = rankText(held)
  if add then
    redis.call('ZADD', freeKey, -held, id)
  else
    redis.call('ZREM', freeKey, id)
  end
  for _, pair in ipairs(metaPairs(f[5])) do
    local member = pair .. '\0' .. rank .. '\0' .. id
    if add then
      redis.call('ZADD', metaKey, 0, member)
    else
      redis.call('ZREM', metaKey, member)
    end
  end
end

local function publishStatus(channel, id, status)
  redis.call('PUBLISH', channel, cjson.encode({ roomId = id, status = STATUS_NAMES[status] }))
end
