-- Reads which rooms an allocation should try, from the allocation indexes only (O(log N) plus what it returns): the
-- first `count` rooms that can take a match, fullest first (max matches > 1) then lowest id, whose metadata has every
-- pair of the selector. Writes nothing; allocate-room.lua checks and takes one of them atomically.
-- KEYS[1] free set, KEYS[2] free metadata set, KEYS[3] (optional) idempotency key string
-- ARGV[1] now (epoch ms), ARGV[2] max matches, ARGV[3] count, ARGV[4] selector pairs as a JSON array ('' for none),
-- ARGV[5] offset: skip that many of the preferred rooms (concurrent callers spread out), unless fewer are left
-- Returns {earlier room id or '', candidate ids…}: the room the idempotency key got, if still within its TTL.
local now = tonumber(ARGV[1])
local maxMatches = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local skip = tonumber(ARGV[5]) or 0
local result = { '' }

if KEYS[3] then
  local earlier = redis.call('GET', KEYS[3])
  if earlier then
    local sep = string.find(earlier, ':', 1, true)
    local expiry = sep and tonumber(string.sub(earlier, 1, sep - 1))
    if expiry and expiry > now then
      result[1] = string.sub(earlier, sep + 1)
    end
  end
end

-- Rooms holding at most maxMatches - 1 matches (only ready rooms for single-match schedulers).
local most = math.max(maxMatches, 1) - 1
if ARGV[4] == '' then
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], -most, 0, 'LIMIT', skip, count)
  if #ids == 0 and skip > 0 then
    ids = redis.call('ZRANGEBYSCORE', KEYS[1], -most, 0, 'LIMIT', 0, count)
  end
  for _, id in ipairs(ids) do
    result[#result + 1] = id
  end
  return result
end

local RANK_BASE = 1000000000
local lowRank = string.format('%010d', RANK_BASE - most)
local highRank = string.format('%010d', RANK_BASE)
local selector = cjson.decode(ARGV[4])
-- Walk the pair with the fewest rooms and check the others per room, each an O(log N) lookup.
local best, bestCount = nil, nil
for i, pair in ipairs(selector) do
  local n = redis.call('ZLEXCOUNT', KEYS[2], '[' .. pair .. '\0' .. lowRank, '(' .. pair .. '\0' .. highRank .. '\1')
  if n == 0 then
    return result
  end
  if not bestCount or n < bestCount then
    best, bestCount = i, n
  end
end
local pair = selector[best]
local wanted = count + skip
local offset, batch = 0, math.max(wanted, 50)
while #result - 1 < wanted do
  local members = redis.call(
    'ZRANGEBYLEX', KEYS[2], '[' .. pair .. '\0' .. lowRank, '(' .. pair .. '\0' .. highRank .. '\1',
    'LIMIT', offset, batch
  )
  if #members == 0 then
    break
  end
  for _, member in ipairs(members) do
    local tail = string.sub(member, #pair + 2)
    local rank = string.sub(tail, 1, 10)
    local id = string.sub(tail, 12)
    local all = true
    for i, other in ipairs(selector) do
      if i ~= best and not redis.call('ZSCORE', KEYS[2], other .. '\0' .. rank .. '\0' .. id) then
        all = false
        break
      end
    end
    if all then
      result[#result + 1] = id
      if #result - 1 >= wanted then
        break
      end
    end
  end
  offset = offset + batch
end
if #result - 1 > skip then
  local spread = { result[1] }
  for i = skip + 2, math.min(#result, skip + 1 + count) do
    spread[#spread + 1] = result[i]
  end
  return spread
end
return result
