--[[
  Marks a host's open outage as over when the host was heard from after it began (the first time
  only: backAt keeps the first alert after the silence).

  Input:
    KEYS[1]  last seen (hash: host → arrival ms of its latest alert)
    KEYS[2]  the host's outage (hash; see openOutage.lua)
    KEYS[3]  open outages (set of hosts)

    ARGV[1]  the host's name

  Output: {'back', since, backAt}, {'silent'} while nothing came, {'none'} when no outage is open (it
  is taken out of the open set then).
]]
local lastSeen, outage, open = KEYS[1], KEYS[2], KEYS[3]
local host = ARGV[1]

local since = redis.call('HGET', outage, 'since')
if not since then
  redis.call('SREM', open, host)
  return {'none'}
end
local backAt = redis.call('HGET', outage, 'backAt')
if backAt then return {'back', since, backAt} end
local seen = tonumber(redis.call('HGET', lastSeen, host) or '')
if not seen or seen <= tonumber(since) then return {'silent'} end
redis.call('HSET', outage, 'backAt', seen)
return {'back', since, tostring(seen)}
