--[[
  Records who first acknowledged or escalated an alert, or asked for its full report; first caller wins.

  Input:
    KEYS[1]  alert state hash
    ARGV[1]  field naming who did it (acknowledgedBy, escalatedBy, reportPostedBy)
    ARGV[2]  field naming when (acknowledgedAt, escalatedAt, reportPostedAt)
    ARGV[3]  who (Slack user id)
    ARGV[4]  when (ISO 8601)

  Output:
    {'claimed'}            this caller's claim was recorded
    {'already', by, at}    someone claimed it before ('' for an unknown time)
    {'missing'}            no such alert (never stored, or expired)
]]
local alertKey = KEYS[1]
local byField, atField, by, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if redis.call('EXISTS', alertKey) == 0 then return {'missing'} end
local earlier = redis.call('HGET', alertKey, byField)
if earlier then return {'already', earlier, redis.call('HGET', alertKey, atField) or ''} end
redis.call('HSET', alertKey, byField, by, atField, at)
return {'claimed'}
