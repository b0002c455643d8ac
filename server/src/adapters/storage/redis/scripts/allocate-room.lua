-- Turns one ready room into allocated, atomically, so concurrent callers never get the same room.
-- KEYS[1] status set, KEYS[2] (optional) idempotency key string
-- ARGV[1] room hash key prefix (the room id follows), ARGV[2] now (epoch ms), ARGV[3] idempotency TTL (ms),
-- ARGV[4] status channel, ARGV[5] metadata selector as a JSON object ('' for none), ARGV[6] ready score,
-- ARGV[7] allocated score
-- Returns the room's hash as flat field/value pairs (HGETALL), or nil when no room qualifies.
-- Room hashes are addressed from ids read here, as Maestro's allocation script does: fine on one Redis, not on Cluster.
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local idempotency = KEYS[2]

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

-- Equal scores come back in id (byte) order, so the first match is the lowest id.
local batch = 200
local offset = 0
local chosen = nil
while not chosen do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[6], ARGV[6], 'LIMIT', offset, batch)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local fields = redis.call('HMGET', prefix .. id, 'status', 'is_validation_room', 'metadata')
    if fields[1] == ARGV[6] and fields[2] ~= '1' and matches(fields[3]) then
      chosen = id
      break
    end
  end
  offset = offset + batch
end
if not chosen then
  return nil
end

local room = prefix .. chosen
redis.call('HSET', room, 'status', ARGV[7], 'allocated_at', ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', ARGV[7], chosen)
redis.call('PUBLISH', ARGV[4], cjson.encode({ roomId = chosen, status = 'allocated' }))
if idempotency then
  redis.call('SET', idempotency, string.format('%d', now + tonumber(ARGV[3])) .. ':' .. chosen, 'PX', ARGV[3])
end
return redis.call('HGETALL', room)
