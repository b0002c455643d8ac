-- Appends one entry to an operation's executionHistory JSON array without decoding it (cjson would turn an empty
-- array into an object and could reformat numbers), unless the writer's lease fence is stale.
-- KEYS[1] operation hash, KEYS[2] lease set, KEYS[3] lease holders hash
-- ARGV[1] the entry as a JSON object, ARGV[2] operation id, ARGV[3] fencing token or '' (not fenced)
-- Returns 0 when the operation does not exist, 1 when appended, 3 when the fence refuses the write.
-- #include lease-fence
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if not fence_holds(KEYS[2], KEYS[3], ARGV[2], ARGV[3]) then
  return 3
end
local history = redis.call('HGET', KEYS[1], 'executionHistory')
if not history or history == '[]' or history == '' then
  history = '[' .. ARGV[1] .. ']'
else
  history = string.sub(history, 1, -2) .. ',' .. ARGV[1] .. ']'
end
redis.call('HSET', KEYS[1], 'executionHistory', history)
return 1
