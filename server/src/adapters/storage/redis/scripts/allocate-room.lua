-- Hands out one match slot atomically, so concurrent callers never get the same slot: takes the first of the given
-- candidates (from allocation-candidates.lua, in preference order) that can still take a match. With max matches > 1
-- a room holding matches gets one more (occupied once full); otherwise the ready room becomes allocated. Every key
-- it touches is given: the candidates' hashes come in KEYS. Mirrors allocateRoom of MemoryRoomStorage.
-- KEYS[1] status set, KEYS[2] occupancy set, KEYS[3] free set, KEYS[4] free metadata set, KEYS[5] idempotency key
-- string (a key never written when the request has none), KEYS[6..] room hashes: the earlier room first when ARGV[6]
-- names one, then the candidates
-- ARGV[1] now (epoch ms), ARGV[2] idempotency TTL (ms), ARGV[3] status channel, ARGV[4] max matches,
-- ARGV[5] '1' when the request has an idempotency key, ARGV[6] the earlier room id the caller read ('' for none),
-- ARGV[7] selector pairs as a JSON array ('' for none), ARGV[8..] the room ids of KEYS[6..]
-- Returns {'ok', field, value, …} (the room's HGETALL), or {'retry'} when the caller's read is outdated (the
-- idempotency key changed, or every candidate was taken meanwhile).
local now = tonumber(ARGV[1])
local maxMatches = tonumber(ARGV[4])
local first = 6

if ARGV[5] == '1' then
  local earlier = redis.call('GET', KEYS[5])
  local earlierId = ''
  if earlier then
    local sep = string.find(earlier, ':', 1, true)
    local expiry = sep and tonumber(string.sub(earlier, 1, sep - 1))
    if expiry and expiry > now then
      earlierId = string.sub(earlier, sep + 1)
    end
  end
  if earlierId ~= ARGV[6] then
    return { 'retry' }
  end
  if earlierId ~= '' then
    if redis.call('EXISTS', KEYS[6]) == 1 then
      local room = redis.call('HGETALL', KEYS[6])
      table.insert(room, 1, 'ok')
      return room
    end
    -- The room it got is gone: allocate another one.
    first = 7
  end
end

local selector = nil
if ARGV[7] ~= '' then
  selector = cjson.decode(ARGV[7])
end

local function hasPairs(json)
  if not selector then
    return true
  end
  local have = {}
  for _, pair in ipairs(metaPairs(json)) do
    have[pair] = true
  end
  for _, pair in ipairs(selector) do
    if not have[pair] then
      return false
    end
  end
  return true
end

for k = first, #KEYS do
  local key, id = KEYS[k], ARGV[k + 2]
  local f = redis.call('HMGET', key, unpack(INDEX_FIELDS))
  local held = f[1] and heldMatches(tonumber(f[1]), tonumber(f[2]) or 0, f[3], f[4])
  if held and held < maxMatches and hasPairs(f[5]) then
    local from = tonumber(f[1])
    reindex(key, KEYS[3], KEYS[4], id, false)
    local to = ALLOCATED
    if maxMatches <= 1 then
      redis.call('HSET', key, 'status', to, 'allocated_at', ARGV[1])
    else
      local running = held + 1
      if running >= maxMatches then
        to = OCCUPIED
        redis.call('HSET', key, 'occupied_at', ARGV[1])
      elseif from == ACTIVE then
        to = ACTIVE
      end
      redis.call('HSET', key, 'status', to, 'allocated_at', ARGV[1], 'running_matches', running)
      redis.call('ZADD', KEYS[2], running, id)
    end
    redis.call('HINCRBY', key, 'revision', 1)
    redis.call('ZADD', KEYS[1], 'XX', to, id)
    reindex(key, KEYS[3], KEYS[4], id, true)
    if to ~= from then
      publishStatus(ARGV[3], id, to)
    end
    if ARGV[5] == '1' then
      redis.call('SET', KEYS[5], string.format('%d', now + tonumber(ARGV[2])) .. ':' .. id, 'PX', ARGV[2])
    end
    local room = redis.call('HGETALL', key)
    table.insert(room, 1, 'ok')
    return room
  end
end
return { 'retry' }
