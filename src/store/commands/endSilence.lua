--[[
  Ends a silence once: lifted by someone, or expired. The first call ends it (leaves the active set,
  unmarks the alert it was made from, announces the change); later calls learn it had ended.

  Input:
    KEYS[1]  the silence's hash
    KEYS[2]  active silences (sorted set of ids by when they end, ms)
    KEYS[3]  the silences' version counter
    KEYS[4]  its held-back alert counter

    ARGV[1]  alert state hash key prefix (followed by the uuid in the silence's `alert` field)
    ARGV[2]  the silence's id
    ARGV[3]  now, ISO 8601
    ARGV[4]  now, ms
    ARGV[5]  who lifts it ("" for its expiry; a silence already past its end counts as expired)
    ARGV[6]  the pub/sub channel that announces changes
    ARGV[7]  seconds the silence and its counter are kept after it ends

  Output: {'ended', endedBy} | {'already', endedAt} | {'missing'}
]]
local alertPrefix, id, nowIso, nowMs, by = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local channel, keep = ARGV[6], tonumber(ARGV[7])
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local endedAt = redis.call('HGET', KEYS[1], 'endedAt')
if endedAt then return {'already', endedAt} end
local endsAt = tonumber(redis.call('HGET', KEYS[1], 'endsAtMs'))
if endsAt and endsAt <= nowMs then by = '' end
redis.call('HSET', KEYS[1], 'endedAt', nowIso, 'endedBy', by)
redis.call('EXPIRE', KEYS[1], keep)
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('EXPIRE', KEYS[4], keep) end
redis.call('ZREM', KEYS[2], id)
local version = redis.call('INCR', KEYS[3])
local alert = redis.call('HGET', KEYS[1], 'alert')
if alert and alert ~= '' and redis.call('HGET', alertPrefix .. alert, 'silenceId') == id then
  redis.call('HDEL', alertPrefix .. alert, 'silenceId', 'silencedUntil', 'silencedBy')
end
redis.call('PUBLISH', channel, version)
return {'ended', by}
