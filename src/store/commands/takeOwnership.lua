--[[
  Makes a Slack user the owner of an alert, atomically: the alert's owner fields and the per-user
  indexes of owned alerts change together, so that `/falco mine` and the Home tab never list an
  alert under two owners. Taking over from another owner is allowed; the reply names who had it.

  The previous owner's index key is made here, from ARGV[5] and the owner read from the hash: it is
  the same name StoreKeys.ownedBy makes (and shares the prefix's slot on Redis Cluster).

  Input:
    KEYS[1]  alert state hash
    KEYS[2]  the new owner's index of owned alerts (sorted set of uuids by when they were taken, ms)
    ARGV[1]  the alert's uuid
    ARGV[2]  the new owner (Slack user id)
    ARGV[3]  when (ISO 8601)
    ARGV[4]  when, ms (score in the index)
    ARGV[5]  the owned-alerts index key prefix (followed by a user id)
    ARGV[6]  field naming the owner (ownerBy)
    ARGV[7]  field naming since when (ownerAt)

  Output:
    {'taken', previous}    recorded; previous is the earlier owner ('' when there was none)
    {'already'}            the alert already belongs to this user
    {'missing'}            no such alert (never stored, or expired)
]]
local alertKey, ownedKey = KEYS[1], KEYS[2]
local uuid, owner, at, atMs, ownedPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local byField, atField = ARGV[6], ARGV[7]

if redis.call('EXISTS', alertKey) == 0 then return {'missing'} end
local previous = redis.call('HGET', alertKey, byField) or ''
if previous == owner then return {'already'} end
if previous ~= '' then redis.call('ZREM', ownedPrefix .. previous, uuid) end
redis.call('HSET', alertKey, byField, owner, atField, at)
redis.call('ZADD', ownedKey, atMs, uuid)
return {'taken', previous}
