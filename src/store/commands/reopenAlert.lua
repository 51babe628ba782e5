--[[
  Clears an alert's resolution, so that it is back in the state it was in before (who acknowledged
  or escalated it is kept throughout). Of two people reopening at once, one does; the other is told
  it is not resolved.

  Input:
    KEYS[1]  alert state hash

  Output:
    {'reopened', by, at, verdict}  the resolution that was cleared
    {'not_resolved'}               the alert is not resolved
    {'missing'}                    no such alert (never stored, or expired)
]]
local alertKey = KEYS[1]

if redis.call('EXISTS', alertKey) == 0 then return {'missing'} end
local was = redis.call('HMGET', alertKey, 'resolvedBy', 'resolvedAt', 'verdict')
if not was[1] then return {'not_resolved'} end
redis.call('HDEL', alertKey, 'verdict', 'resolutionNote', 'resolvedBy', 'resolvedAt')
return {'reopened', was[1], was[2] or '', was[3] or ''}
