--[[
  Writes fields of an alert's state only while the alert still exists, so that an expired alert is
  not resurrected half-empty.

  Input:
    KEYS[1]  alert state hash
    ARGV     field, value, field, value, ...

  Output:
    1 when written, 0 when the alert no longer exists
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
