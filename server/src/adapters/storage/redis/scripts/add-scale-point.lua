-- Adds a utilization point as the newest of a scheduler's list for one type, unless the newest point is closer than
-- the minimum gap, and trims the list to the points kept.
-- KEYS[1] point list; ARGV[1] point ("<epoch ms>:<value>"), ARGV[2] point time (epoch ms), ARGV[3] points kept,
-- ARGV[4] minimum gap (ms). Returns 1 when added, 0 when skipped.
local newest = redis.call('LINDEX', KEYS[1], 0)
if newest then
  local at = tonumber(string.match(newest, '^(%d+):'))
  if at and tonumber(ARGV[2]) - at < tonumber(ARGV[4]) then
    return 0
  end
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[3]) - 1)
return 1
