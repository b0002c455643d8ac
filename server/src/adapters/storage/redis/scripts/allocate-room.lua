-- Hands out one match slot atomically, so concurrent callers never get the same slot: with max matches > 1, the
-- fullest active/allocated room with a free slot first; otherwise (or when none) the first ready room, which becomes
-- allocated. Mirrors allocateRoom of MemoryRoomStorage (the RoomStorage contract runs both).
-- KEYS[1] status set, KEYS[2] occupancy set, KEYS[3] (optional) idempotency key string
-- ARGV[1] room hash key prefix (the room id follows), ARGV[2] now (epoch ms), ARGV[3] idempotency TTL (ms),
-- ARGV[4] status channel, ARGV[5] metadata selector as a JSON object ('' for none), ARGV[6] ready score,
-- ARGV[7] allocated score, ARGV[8] max matches, ARGV[9] active score, ARGV[10] occupied score
-- Returns the room's hash as flat field/value pairs (HGETALL), or nil when no room qualifies.
-- Room hashes are addressed from ids read here (same hash tag, so same slot); replaced by declared keys next.
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local idempotency = KEYS[3]
local maxMatches = tonumber(ARGV[8])

-- The idempotency value is '<expiry ms>:<room id>'. The expiry is checked against the caller's clock (`now`), so a
-- key counts as expired exactly when the caller says; PX only reclaims the memory.
if idempotency then
  local earlier = redis.call('GET', idempotency)
  if earlier then
    local sep = string.find(earlier, ':', 1, true)
    if sep then
      local expiry = tonumber(string.sub(earlier, 1, sep - 1))
      local room = prefix .. string.sub(earlier, sep + 1)
      if expiry and expiry > now and redis.call('EXISTS', room) == 1 then
        return redis.call('HGETALL', room)
      end
    end
  end
end

local selector = nil
if ARGV[5] ~= '' then
  selector = cjson.decode(ARGV[5])
end

-- The room's metadata value, as JavaScript's String() would print it, equals the wanted text.
local function same(have, want)
  local kind = type(have)
  if kind == 'string' then
    return have == want
  elseif kind == 'boolean' then
    return tostring(have) == want
  elseif kind == 'number' then
    if have == math.floor(have) and math.abs(have) < 2 ^ 53 then
      return string.format('%d', have) == want
    end
    return tonumber(want) == have
  elseif have == cjson.null then
    return want == 'null'
  end
  return false
end

local function matches(metadata)
  if not selector then
    return true
  end
  local ok, decoded = pcall(cjson.decode, metadata or '{}')
  if not ok or type(decoded) ~= 'table' then
    return false
  end
  for key, want in pairs(selector) do
    if not same(decoded[key], want) then
      return false
    end
  end
  return true
end

local batch = 200
local chosen = nil
local chosenRunning = 0
local chosenStatus = nil

-- Packing: scan active and allocated rooms (adjacent scores), keep the fullest with a free slot, lowest id on ties.
if maxMatches > 1 then
  local low = math.min(tonumber(ARGV[7]), tonumber(ARGV[9]))
  local high = math.max(tonumber(ARGV[7]), tonumber(ARGV[9]))
  local offset = 0
  while chosenRunning < maxMatches - 1 do
    local ids = redis.call('ZRANGEBYSCORE', KEYS[1], low, high, 'LIMIT', offset, batch)
    if #ids == 0 then
      break
    end
    for _, id in ipairs(ids) do
      local fields = redis.call('HMGET', prefix .. id, 'status', 'is_validation_room', 'metadata', 'running_matches')
      local running = tonumber(fields[4]) or 0
      if (fields[1] == ARGV[7] or fields[1] == ARGV[9]) and fields[2] ~= '1' and running < maxMatches
        and matches(fields[3]) then
        if not chosen or running > chosenRunning or (running == chosenRunning and id < chosen) then
          chosen, chosenRunning, chosenStatus = id, running, fields[1]
        end
      end
    end
    offset = offset + batch
  end
end

-- Equal scores come back in id (byte) order, so the first match is the lowest id.
local offset = 0
while not chosen do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[6], ARGV[6], 'LIMIT', offset, batch)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local fields = redis.call('HMGET', prefix .. id, 'status', 'is_validation_room', 'metadata', 'running_matches')
    if fields[1] == ARGV[6] and fields[2] ~= '1' and matches(fields[3]) then
      chosen, chosenRunning, chosenStatus = id, tonumber(fields[4]) or 0, fields[1]
      break
    end
  end
  offset = offset + batch
end
if not chosen then
  return nil
end

local room = prefix .. chosen
local status = ARGV[7]
if maxMatches <= 1 then
  redis.call('HSET', room, 'status', status, 'allocated_at', ARGV[2])
else
  local running = chosenRunning + 1
  if running >= maxMatches then
    status = ARGV[10]
    redis.call('HSET', room, 'occupied_at', ARGV[2])
  elseif chosenStatus == ARGV[9] then
    status = ARGV[9]
  end
  redis.call('HSET', room, 'status', status, 'allocated_at', ARGV[2], 'running_matches', running)
  redis.call('ZADD', KEYS[2], running, chosen)
end
redis.call('ZADD', KEYS[1], 'XX', status, chosen)
if status ~= chosenStatus then
  local names = { [ARGV[7]] = 'allocated', [ARGV[9]] = 'active', [ARGV[10]] = 'occupied' }
  redis.call('PUBLISH', ARGV[4], cjson.encode({ roomId = chosen, status = names[status] }))
end
if idempotency then
  redis.call('SET', idempotency, string.format('%d', now + tonumber(ARGV[3])) .. ':' .. chosen, 'PX', ARGV[3])
end
return redis.call('HGETALL', room)
