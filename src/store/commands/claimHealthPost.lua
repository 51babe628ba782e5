--[[
  Claims the posting of a health message (a host's outage or visibility episode), so that two
  workers do not both post it. A claim older than the stale time is taken over: its worker died
  between claiming and recording the message.

  Input:
    KEYS[1]  the outage or episode hash (fields channel, ts, postingAt)

    ARGV[1]  now, ms
    ARGV[2]  stale claim, ms

  Output: {'claimed'}, {'posted', channel, ts} when the message exists, {'busy'} while another
  worker's claim is fresh, {'missing'} when the hash is gone.
]]
local key = KEYS[1]
local now, stale = tonumber(ARGV[1]), tonumber(ARGV[2])

if redis.call('EXISTS', key) == 0 then return {'missing'} end
local ts = redis.call('HGET', key, 'ts')
if ts then return {'posted', redis.call('HGET', key, 'channel') or '', ts} end
local claimed = tonumber(redis.call('HGET', key, 'postingAt') or '')
if claimed and now - claimed < stale then return {'busy'} end
redis.call('HSET', key, 'postingAt', now)
return {'claimed'}
