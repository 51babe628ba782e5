--[[
  Records how an alert ended (its verdict, a note, who and when); the first caller wins, so that of
  two people resolving the same alert at once exactly one does and the other learns who.

  Input:
    KEYS[1]  alert state hash
    ARGV[1]  verdict
    ARGV[2]  note ("" for none)
    ARGV[3]  who (Slack user id)
    ARGV[4]  when (ISO 8601)

  Output:
    {'resolved'}                   this caller's resolution was recorded
    {'already', by, at, verdict}   someone resolved it before
    {'missing'}                    no such alert (never stored, or expired)
]]
local alertKey = KEYS[1]
local verdict, note, by, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if redis.call('EXISTS', alertKey) == 0 then return {'missing'} end
local earlier = redis.call('HMGET', alertKey, 'resolvedBy', 'resolvedAt', 'verdict')
if earlier[1] then return {'already', earlier[1], earlier[2] or '', earlier[3] or ''} end
redis.call('HSET', alertKey, 'verdict', verdict, 'resolutionNote', note, 'resolvedBy', by, 'resolvedAt', at)
return {'resolved'}
