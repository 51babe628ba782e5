--[[
  Stores a batch of alerts in one atomic step: each alert is created only if its uuid is new and it
  is not a re-sent copy of a stored alert (same content, another uuid); it is indexed and put in its
  group (unless that group's first alert is resolved: then it starts a new group, which names the
  resolved one as its previous occurrence). Then trims the indexes of alerts past the retention and
  of groups whose window has closed.

  Layout, chosen for memory: the alert itself (immutable, ~1-2 KB of JSON) is a string key; its
  mutable state is a hash whose values all stay short, so that Redis keeps it in its compact listpack
  encoding (a hash holding one long value is converted to a full hash table, about twice the bytes).
  A group's samples are a set created only when a second occurrence arrives; the first one's sample
  is read from its alert. Redis's time per alert follows the number of commands, so each check is
  the one command that also does the work where it can (SET NX for the content key, HINCRBY for the
  group).

  Input:
    KEYS[1]  uuid-prefix index base name: the index is split into small score-0 sorted sets
             KEYS[1]:<first ARGV[6] characters of the uuid>, which Redis keeps as listpacks
    KEYS[2]  by-time index (sorted set of uuids by arrival ms; also the "recent" list)
    KEYS[3]  open groups (sorted set of group pointer keys by when their window closes, ms)
    then for each alert, 4 keys:
      +1 alert state hash
      +2 alert body (string)
      +3 seen: the content key, naming the first alert stored with this content
      +4 group pointer: the uuid of the group's first alert

    ARGV[1]  now, ms (the latest alert's arrival): index entries older than the retention and open
             groups whose window has closed are removed
    ARGV[2]  group window, s ("0": no grouping)
    ARGV[3]  alert state hash key prefix (followed by a uuid; for the original and group leader)
    ARGV[4]  dedupe window, s ("0": re-sent copies are not recognised)
    ARGV[5]  retention, s
    ARGV[6]  number of leading uuid characters that name an index bucket
    ARGV[7]  held-back counter key prefix: a held alert raises <ARGV[7]><the hold's id> by one (a
             new counter lives 91 days, the longest silence and a day; ending a silence shortens it)
    then for each alert, 10 arguments:
      +1 body JSON
      +2 uuid
      +3 sample (a short text kept for the group's message)
      +4 channel
      +5 post: "1", or "0" below MIN_PRIORITY (stored as not_posted, its delivery settled on arrival)
      +6 receivedAt (ISO 8601)
      +7 receivedAt, ms (score in the by-time index)
      +8 held: "silenced" or "tuned" when a silence or saved exception holds it back, else ""
      +9 the id of that silence or exception, else ""
      +10 the rule's index key (sorted set of the rule's stored uuids by arrival ms)

  Output: one array per alert, in order:
    {'leader'}                           stored, first of its group (or grouping is off); a group
                                         that follows a resolved one has previousOccurrence set
    {'member', leaderUuid, occurrences}  stored and counted on its group's first alert
    {'copy', originalUuid}               a re-sent copy: counted on the original, not stored
    {'held', status}                     stored, held back (not posted, in no group: an alert the
                                         hold did not match must never join a message nobody sees)
    {'undelivered'}                      uuid stored already, not yet delivered
    {'duplicate'}                        uuid stored already and delivered (or not to be posted)
]]
local FIXED_KEYS, KEYS_PER_ALERT = 3, 4
local FIXED_ARGS, ARGS_PER_ALERT = 7, 10

local idsKey, byTimeKey, openGroupsKey = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local window, alertPrefix, dedupe, retention = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local bucketChars = tonumber(ARGV[6])
local heldPrefix = ARGV[7]

local function bucket(uuid)
  return idsKey .. ':' .. string.sub(uuid, 1, bucketChars)
end

-- Index entries are collected and added with one ZADD per sorted set at the end: a batch's uuids
-- often share a bucket (a sender that numbers them in sequence puts them all in one).
local byTime = {}
local buckets, bucketOrder = {}, {}
local function index(uuid, score)
  local key = bucket(uuid)
  local entries = buckets[key]
  if not entries then
    entries = {}
    buckets[key] = entries
    bucketOrder[#bucketOrder + 1] = key
  end
  entries[#entries + 1] = 0
  entries[#entries + 1] = uuid
  byTime[#byTime + 1] = score
  byTime[#byTime + 1] = uuid
end

-- Rule index (replaying a Falco exception against the rule's stored alerts): one ZADD per rule.
local byRule, ruleOrder = {}, {}
local function indexRule(key, uuid, score)
  local entries = byRule[key]
  if not entries then
    entries = {}
    byRule[key] = entries
    ruleOrder[#ruleOrder + 1] = key
  end
  entries[#entries + 1] = score
  entries[#entries + 1] = uuid
end

local function create(alertKey, bodyKey, seenKey, groupKey, body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey)
  local status = redis.call('HGET', alertKey, 'deliveryStatus')
  if status then
    if status == 'pending' then return {'undelivered'} end
    return {'duplicate'}
  end
  if dedupe ~= '0' and not redis.call('SET', seenKey, uuid, 'NX', 'EX', dedupe) then
    local original = redis.call('GET', seenKey)
    if original and redis.call('EXISTS', alertPrefix .. original) == 1 then
      redis.call('HINCRBY', alertPrefix .. original, 'copies', 1)
      redis.call('SET', alertPrefix .. uuid .. ':copy-of', original, 'EX', dedupe)
      return {'copy', original}
    end
    -- The alert it named has expired: this one takes its place.
    redis.call('SET', seenKey, uuid, 'EX', dedupe)
  end
  redis.call('SET', bodyKey, body, 'EX', retention)
  index(uuid, score)
  indexRule(ruleKey, uuid, score)
  local leader, n
  if held ~= '' then
    redis.call('HSET', alertKey, 'receivedAt', receivedAt, 'channel', channel, 'post', post,
      'deliveryStatus', held, 'deliveryAt', receivedAt, 'heldBy', heldBy, 'group', uuid)
    redis.call('EXPIRE', alertKey, retention)
    if redis.call('INCR', heldPrefix .. heldBy) == 1 then redis.call('EXPIRE', heldPrefix .. heldBy, 7862400) end
    return {'held', held}
  end
  local previous
  if window ~= '0' then
    leader = redis.call('GET', groupKey)
    if leader and redis.call('HEXISTS', alertPrefix .. leader, 'resolvedAt') == 1 then
      -- Its incident was resolved: this occurrence starts a new one, whose message links back.
      previous, leader = leader, nil
    end
    if leader then
      local leaderKey = alertPrefix .. leader
      n = redis.call('HINCRBY', leaderKey, 'groupCount', 1)
      if n == 1 then
        -- The group's first alert has expired (HINCRBY made an empty hash of it): start a new group.
        redis.call('DEL', leaderKey)
        leader = nil
      else
        redis.call('HSET', leaderKey, 'groupLast', receivedAt)
        local samples = leaderKey .. ':samples'
        if redis.call('SCARD', samples) < 5 and redis.call('SADD', samples, sample) == 1 then
          redis.call('EXPIRE', samples, retention)
        end
      end
    end
    if not leader then
      redis.call('SET', groupKey, uuid, 'EX', window)
      redis.call('ZADD', openGroupsKey, tonumber(score) + tonumber(window) * 1000, groupKey)
    end
  end
  local fields = {'receivedAt', receivedAt, 'channel', channel, 'post', post}
  if post == '1' then
    fields[7], fields[8] = 'deliveryStatus', 'pending'
  else
    fields[7], fields[8], fields[9], fields[10] = 'deliveryStatus', 'not_posted', 'deliveryAt', receivedAt
  end
  local f = #fields
  if leader then
    fields[f + 1], fields[f + 2] = 'group', leader
  else
    fields[f + 1], fields[f + 2], fields[f + 3], fields[f + 4] = 'group', uuid, 'groupCount', 1
    fields[f + 5], fields[f + 6], fields[f + 7], fields[f + 8] = 'groupFirst', receivedAt, 'groupLast', receivedAt
    if previous then fields[f + 9], fields[f + 10] = 'previousOccurrence', previous end
  end
  redis.call('HSET', alertKey, unpack(fields))
  redis.call('EXPIRE', alertKey, retention)
  if leader then return {'member', leader, n} end
  return {'leader'}
end

local out = {}
local alerts = (#KEYS - FIXED_KEYS) / KEYS_PER_ALERT
for i = 0, alerts - 1 do
  local k, a = FIXED_KEYS + i * KEYS_PER_ALERT, FIXED_ARGS + i * ARGS_PER_ALERT
  local alertKey, bodyKey, seenKey, groupKey = unpack(KEYS, k + 1, k + KEYS_PER_ALERT)
  local body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey = unpack(ARGV, a + 1, a + ARGS_PER_ALERT)
  out[#out + 1] = create(alertKey, bodyKey, seenKey, groupKey, body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey)
end
for _, key in ipairs(bucketOrder) do redis.call('ZADD', key, unpack(buckets[key])) end
if #byTime > 0 then redis.call('ZADD', byTimeKey, unpack(byTime)) end

-- Retention: alerts' keys expire by themselves; their index entries are removed a few at a time here.
local expired = redis.call('ZRANGEBYSCORE', byTimeKey, '-inf', now - tonumber(retention) * 1000, 'LIMIT', 0, 100)
if #expired > 0 then
  for _, old in ipairs(expired) do redis.call('ZREM', bucket(old), old) end
  redis.call('ZREM', byTimeKey, unpack(expired))
end
-- Rule index: each rule's set written in this batch loses its entries past the retention, and the
-- whole set expires with its newest alert, so a rule that stops firing leaves nothing behind.
for _, key in ipairs(ruleOrder) do
  redis.call('ZADD', key, unpack(byRule[key]))
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(retention) * 1000)
  redis.call('EXPIRE', key, retention)
end
-- Groups whose window has closed.
redis.call('ZREMRANGEBYSCORE', openGroupsKey, '-inf', now)
return out
