--[[
  Creates a silence, makes it active, and marks the alert it was made from, in one atomic step; then
  announces the change, so that every process re-reads the active silences.

  Input:
    KEYS[1]  the silence's hash
    KEYS[2]  active silences (sorted set of ids by when they end, ms)
    KEYS[3]  the silences' version counter
    KEYS[4]  optional: the state hash of the alert it was made from

    ARGV[1]  the silence's id
    ARGV[2]  when it ends, ms
    ARGV[3]  when it ends, ISO 8601 (shown on the alert's message)
    ARGV[4]  who made it
    ARGV[5]  seconds the silence's hash is kept after it ends
    ARGV[6]  the pub/sub channel that announces changes
    ARGV[7]  now, ms: silences that have ended by now leave the active set
    then the silence's hash fields and values, in pairs

  Output: {'created', version} or {'exists'} when the id is taken.
]]
local id, endsAtMs, endsAtIso, createdBy = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local keep, channel, now = tonumber(ARGV[5]), ARGV[6], ARGV[7]
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
redis.call('PEXPIREAT', KEYS[1], endsAtMs + keep * 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], endsAtMs, id)
local version = redis.call('INCR', KEYS[3])
if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HSET', KEYS[4], 'silenceId', id, 'silencedUntil', endsAtIso, 'silencedBy', createdBy)
end
redis.call('PUBLISH', channel, version)
return {'created', version}
