--[[
  Records a syscall-drop alert or a timeouts notification from one host: adds it to the host's
  visibility events (once: a re-sent copy has the same member) and counts it on the host's current
  visibility episode, the span that one health message in Slack stands for. An episode that saw
  nothing for longer than the gap is over: the next event starts a new one (and a new message).

  Input:
    KEYS[1]  the host's visibility events (sorted set, score = arrival ms, member = ARGV[5])
    KEYS[2]  the host's visibility episode (hash: host, startedAt, lastAt, drops, dropAlerts,
             timeouts, lastEventTime; and its message: channel, ts, postingAt)

    ARGV[1]  now: the alert's arrival, ms
    ARGV[2]  episode gap, ms
    ARGV[3]  kind: 'drops' or 'timeouts'
    ARGV[4]  events dropped (a whole number; '0' when the alert did not say)
    ARGV[5]  the event's member: kind, Falco's time and the count, unique per alert
    ARGV[6]  how long events are kept, ms (the alert retention: an alert's report can ask later)
    ARGV[7]  the host's name
    ARGV[8]  for timeouts, the last event time Falco gave ('' if none)

  Output: {'new', startedAt} when this event started an episode, {'more', startedAt} when it added
  to one, {'copy', startedAt} when it was recorded already (nothing counted).
]]
local events, episode = KEYS[1], KEYS[2]
local now, gap, kind, n, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local keep, host, lastEventTime = tonumber(ARGV[6]), ARGV[7], ARGV[8]

redis.call('ZREMRANGEBYSCORE', events, '-inf', now - keep)
local added = redis.call('ZADD', events, 'NX', now, member)
redis.call('PEXPIRE', events, keep)
local startedAt = redis.call('HGET', episode, 'startedAt')
if added == 0 then return {'copy', startedAt or ''} end

local status = 'more'
local lastAt = tonumber(redis.call('HGET', episode, 'lastAt') or '')
if not startedAt or not lastAt or now - lastAt > gap then
  redis.call('DEL', episode)
  startedAt = tostring(now)
  redis.call('HSET', episode, 'host', host, 'startedAt', startedAt, 'lastAt', now,
    'drops', 0, 'dropAlerts', 0, 'timeouts', 0)
  status = 'new'
elseif now > lastAt then
  redis.call('HSET', episode, 'lastAt', now)
end
if kind == 'drops' then
  redis.call('HINCRBY', episode, 'drops', n)
  redis.call('HINCRBY', episode, 'dropAlerts', 1)
else
  redis.call('HINCRBY', episode, 'timeouts', 1)
  if lastEventTime ~= '' then redis.call('HSET', episode, 'lastEventTime', lastEventTime) end
end
redis.call('PEXPIRE', episode, keep)
return {status, startedAt}
