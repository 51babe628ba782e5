--[[
  Opens a host's outage once: when it has been silent for the threshold and has no open outage.
  Every worker's heartbeat check may call this for the same host at once; exactly one opens it, and
  so exactly one health message is posted per outage.

  Input:
    KEYS[1]  last seen (hash: host → arrival ms of its latest alert, any alert)
    KEYS[2]  the host's outage (hash: host, since, detectedAt; then its message: channel, ts,
             postingAt; and backAt once the host is heard from again)
    KEYS[3]  open outages (set of hosts)

    ARGV[1]  the host's name
    ARGV[2]  now, ms
    ARGV[3]  silence that makes an outage, ms
    ARGV[4]  the host's last metrics snapshot, ms: its last sign of life should last seen be missing

  Output: {'opened', since} (since = last seen, ms), {'open'} when one is open already, {'alive'}
  when the host was heard from within the threshold.
]]
local lastSeen, outage, open = KEYS[1], KEYS[2], KEYS[3]
local host, now, threshold = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

if redis.call('EXISTS', outage) == 1 then return {'open'} end
local seen = tonumber(redis.call('HGET', lastSeen, host) or ARGV[4])
if not seen or now - seen < threshold then return {'alive'} end
redis.call('HSET', outage, 'host', host, 'since', seen, 'detectedAt', now)
redis.call('SADD', open, host)
return {'opened', tostring(seen)}
