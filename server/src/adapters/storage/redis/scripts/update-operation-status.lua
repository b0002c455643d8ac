-- Sets an operation's status and moves its id to the stage set of that status, keeping its score (creation time), when
-- the guard allows: a final status never changes again; ARGV[4] (when not '') is the status the operation must have
-- (compare-and-set); ARGV[5] (when not '') is the fencing token whose live lease the writer must hold.
-- KEYS[1] operation hash, KEYS[2] target stage set, KEYS[3..4] the other stage sets, KEYS[5] lease set,
-- KEYS[6] lease holders hash
-- ARGV[1] id, ARGV[2] status (Maestro's number), ARGV[3] score to use if the id is in no set (should not happen),
-- ARGV[4] expected status number or '', ARGV[5] fencing token or ''
-- Returns {0} when the operation does not exist, {1} when updated, {2, current} when the status refuses the write,
-- {3} when the fence does.
-- #include lease-fence
local current = redis.call('HGET', KEYS[1], 'status')
if not current then
  return {0}
end
-- Maestro's numbers: 2 canceled, 3 finished, 4 evicted, 5 error are final.
local n = tonumber(current)
if (n and n >= 2) or (ARGV[4] ~= '' and current ~= ARGV[4]) then
  return {2, current}
end
if not fence_holds(KEYS[5], KEYS[6], ARGV[1], ARGV[5]) then
  return {3}
end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score then
  return {1}
end
for i = 3, 4 do
  local found = redis.call('ZSCORE', KEYS[i], ARGV[1])
  if found then
    score = found
    redis.call('ZREM', KEYS[i], ARGV[1])
  end
end
redis.call('ZADD', KEYS[2], score or ARGV[3], ARGV[1])
return {1}
