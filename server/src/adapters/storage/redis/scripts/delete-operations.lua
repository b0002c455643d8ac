-- Deletes operation hashes and unlists their ids from every stage set, atomically.
-- KEYS[1..3] the stage sets, KEYS[4..] operation hashes; ARGV the ids, in the order of their hashes
-- Returns the number of ids handled.
for i = 4, #KEYS do
  redis.call('DEL', KEYS[i])
end
if #ARGV > 0 then
  for i = 1, 3 do
    redis.call('ZREM', KEYS[i], unpack(ARGV))
  end
end
return #ARGV
