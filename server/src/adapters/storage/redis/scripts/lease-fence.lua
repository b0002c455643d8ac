-- Shared by the scripts that write for a lease holder (included, not run on its own). Time is Redis's own: every
-- replica agrees on when a lease expires whatever its clock says.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The token of the live lease of `id`, or nil when none is live. lease_set scores are expiries (epoch ms); holders
-- maps id to '<token>|<owner>'.
local function live_token(lease_set, holders, id, now)
  local expiry = redis.call('ZSCORE', lease_set, id)
  if not expiry or tonumber(expiry) <= now then
    return nil
  end
  local holder = redis.call('HGET', holders, id)
  if not holder then
    return nil
  end
  return string.match(holder, '^(%d+)|')
end

-- True when `token` (a string; '' = the write is not fenced) holds the live lease of `id`.
local function fence_holds(lease_set, holders, id, token)
  if token == '' then
    return true
  end
  return live_token(lease_set, holders, id, now_ms()) == token
end
