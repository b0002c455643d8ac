-- Appends one entry to an operation's executionHistory JSON array without decoding it (cjson would turn an empty
-- array into an object and could reformat numbers).
-- KEYS[1] operation hash; ARGV[1] the entry as a JSON object
-- Returns 0 when the operation does not exist, 1 when appended.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local history = redis.call('HGET', KEYS[1], 'executionHistory')
if not history or history == '[]' or history == '' then
  history = '[' .. ARGV[1] .. ']'
else
  history = string.sub(history, 1, -2) .. ',' .. ARGV[1] .. ']'
end
redis.call('HSET', KEYS[1], 'executionHistory', history)
return 1
