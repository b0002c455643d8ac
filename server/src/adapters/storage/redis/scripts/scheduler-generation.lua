-- The scheduler generation (KEYS[1]) as a one-element array: the script channel speaks arrays, and a missing key
-- (nothing announced yet) comes back as a nil element.
return { redis.call('GET', KEYS[1]) }
