--[[
  Stores a batch of alerts in one atomic step: each alert is created only if its uuid is new and it
  is not a re-sent copy of a stored alert (same content, another uuid); it is indexed and put in its
  group (unless that group's first alert is resolved: then it starts a new group, which names the
  resolved one as its previous occurrence). Then trims the indexes of alerts past the retention and
  of groups whose window has closed.

  Fleet roll-up (ARGV[8] > 0, with grouping on): when one rule opens more than ARGV[8] new groups in
  one channel within ARGV[9] seconds, its further new groups join one roll-up instead of being
  posted on their own. The group that goes over the threshold opens the roll-up (its uuid is the
  roll-up's id) and takes the groups counted before it in as members (their messages stay theirs);
  the roll-up carries its most severe member's priority;
  each new group joining it refreshes the roll-up's window, and the roll-up closes
  when no new group joined for ARGV[9] seconds, or when it is resolved. A rolled-up group's first
  alert is stored with deliveryStatus "rolled_up" and the roll-up's id (and any acknowledgement or
  escalation the roll-up already has); its later occurrences count on the roll-up too. Held
  alerts, and alerts not to be posted, never join a roll-up.

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
    ARGV[8]  fleet roll-up threshold: new groups of one rule in one channel before a roll-up opens
             ("0": roll-ups off)
    ARGV[9]  fleet roll-up window, s
    ARGV[10] roll-up key prefix: a roll-up's record is <ARGV[10]><id>, its sorted sets of member
             groups, hosts, pods and namespaces <ARGV[10]><id>:members, :hosts, :pods, :namespaces,
             and its member groups' places <ARGV[10]><id>:where (hash: uuid → JSON [host, pod, ns])
    then for each alert, 16 arguments:
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
      +11 the rule's fleet key in the channel: <it>:groups is the sorted set of the rule's new groups
          in the roll-up window (JSON [uuid, host, pod, ns, priority] by arrival ms), <it>:open the
          id of its open roll-up
      +12 the rule's name
      +13 the alert's priority
      +14..16 its host, pod and namespace ("" when it has none)

  Output: one array per alert, in order:
    {'leader'}                           stored, first of its group (or grouping is off); a group
                                         that follows a resolved one has previousOccurrence set
    {'member', leaderUuid, occurrences}  stored and counted on its group's first alert
    {'member', leaderUuid, occurrences, rollupId, ownMessage}
                                         the same, for a group in a roll-up (counted on it too);
                                         ownMessage is 1 for a group posted before the roll-up opened
    {'rolled_up', rollupId, opened}      stored, first of a new group that joined a roll-up instead
                                         of being posted; opened is 1 when it opened the roll-up
    {'copy', originalUuid}               a re-sent copy: counted on the original, not stored
    {'held', status}                     stored, held back (not posted, in no group: an alert the
                                         hold did not match must never join a message nobody sees)
    {'undelivered'}                      uuid stored already, not yet delivered
    {'undelivered_rollup', rollupId}     uuid stored already, in a roll-up not yet posted
    {'duplicate'}                        uuid stored already and delivered (or not to be posted)
]]
local FIXED_KEYS, KEYS_PER_ALERT = 3, 4
local FIXED_ARGS, ARGS_PER_ALERT = 10, 16

local idsKey, byTimeKey, openGroupsKey = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local window, alertPrefix, dedupe, retention = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local bucketChars = tonumber(ARGV[6])
local heldPrefix = ARGV[7]
local rollupGroups, rollupWindow, rollupPrefix = tonumber(ARGV[8]), ARGV[9], ARGV[10]
local rollupsOn = rollupGroups > 0 and window ~= '0'

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

-- A roll-up counts every occurrence of its member groups, by member, host, pod and namespace. The
-- counts are summed here and written once per roll-up at the end of the batch (a storm's batch
-- holds many occurrences of few members): one ZINCRBY per distinct member and place, not per alert.
local rollupCounts, rollupOrder = {}, {}
local function tally(entries, order, name, by)
  if name == '' then return end
  if not entries[name] then
    entries[name] = 0
    order[#order + 1] = name
  end
  entries[name] = entries[name] + by
end

local function countOnRollup(rollupKey, member, by, receivedAt, host, pod, ns)
  local c = rollupCounts[rollupKey]
  if not c then
    c = {total = 0, groups = 0, last = receivedAt, where = {}, opened = false}
    for _, kind in ipairs({'members', 'hosts', 'pods', 'namespaces'}) do c[kind] = {n = {}, order = {}} end
    rollupCounts[rollupKey] = c
    rollupOrder[#rollupOrder + 1] = rollupKey
  end
  c.total = c.total + by
  if receivedAt > c.last then c.last = receivedAt end
  tally(c.members.n, c.members.order, member, by)
  tally(c.hosts.n, c.hosts.order, host, by)
  tally(c.pods.n, c.pods.order, pod, by)
  tally(c.namespaces.n, c.namespaces.order, ns, by)
  return c
end

-- A group joins a roll-up: counted with the occurrences it has, and its place kept for the report.
local function joinRollup(rollupKey, member, by, receivedAt, host, pod, ns)
  local c = countOnRollup(rollupKey, member, by, receivedAt, host, pod, ns)
  c.groups = c.groups + 1
  c.where[#c.where + 1] = member
  c.where[#c.where + 1] = cjson.encode({host, pod, ns})
  return c
end

-- Fleet keys whose open roll-up a member's occurrence keeps open: refreshed once at the end.
local keepOpen, keepOpenOrder = {}, {}

-- Falco's priorities, most severe first (src/falco/priority.ts).
local SEVERITY = {Emergency = 0, Alert = 1, Critical = 2, Error = 3, Warning = 4, Notice = 5,
  Informational = 6, Debug = 7}

local ROLLUP_SETS = {':members', ':where', ':hosts', ':pods', ':namespaces'}

-- The roll-up a new group of this rule in this channel joins, if any: the open one (unless it was
-- resolved, which closes it), or a new one when this group takes the rule over the threshold. The
-- groups counted towards the threshold (posted on their own) are members of the new roll-up too,
-- so that it counts every host the rule fired on; their messages stay theirs. Answers the roll-up's
-- id, whether this group opened it, and its record's acknowledgement fields.
local function rollupFor(fleet, uuid, score, rule, channel, priority, receivedAt, host, pod, ns)
  local openKey = fleet .. ':open'
  local id = redis.call('GET', openKey)
  if id then
    local state = redis.call('HMGET', rollupPrefix .. id, 'receivedAt', 'resolvedAt',
      'acknowledgedBy', 'acknowledgedAt', 'escalatedBy', 'escalatedAt', 'priority')
    if state[1] and not state[2] then
      -- The roll-up carries its most severe member's priority (a silence made from it covers them all).
      if (SEVERITY[priority] or 99) < (SEVERITY[state[7]] or 99) then
        redis.call('HSET', rollupPrefix .. id, 'priority', priority)
      end
      return id, false, state
    end
    redis.call('DEL', openKey)
  end
  local groupsKey = fleet .. ':groups'
  redis.call('ZREMRANGEBYSCORE', groupsKey, '-inf', tonumber(score) - tonumber(rollupWindow) * 1000)
  if redis.call('ZCARD', groupsKey) < rollupGroups then
    -- Each entry names the group's first alert and its place, for a roll-up that may take it in.
    redis.call('ZADD', groupsKey, score, cjson.encode({uuid, host, pod, ns, priority}))
    redis.call('EXPIRE', groupsKey, rollupWindow)
    return nil
  end
  -- Over the threshold: this group opens the rule's roll-up, and the count starts again after it.
  local earlier = redis.call('ZRANGE', groupsKey, 0, -1)
  redis.call('DEL', groupsKey)
  local rollupKey = rollupPrefix .. uuid
  redis.call('HSET', rollupKey, 'receivedAt', receivedAt, 'rule', rule, 'channel', channel,
    'priority', priority, 'first', receivedAt, 'last', receivedAt, 'total', 0, 'groups', 0,
    'deliveryStatus', 'pending', 'fleet', fleet)
  redis.call('EXPIRE', rollupKey, retention)
  local first, ownMessages = receivedAt, {}
  for _, entry in ipairs(earlier) do
    local e = cjson.decode(entry)
    local key = alertPrefix .. e[1]
    local found = redis.call('HMGET', key, 'groupCount', 'resolvedAt', 'groupFirst')
    if found[1] and not found[2] then
      redis.call('HSET', key, 'rollup', uuid)
      joinRollup(rollupKey, e[1], tonumber(found[1]), receivedAt, e[2], e[3], e[4])
      ownMessages[#ownMessages + 1] = e[1]
      if (SEVERITY[e[5]] or 99) < (SEVERITY[priority] or 99) then priority = e[5] end
      if found[3] and found[3] < first then first = found[3] end
    end
  end
  redis.call('HSET', rollupKey, 'first', first, 'priority', priority)
  -- The members with a message of their own, which the roll-up's buttons update too.
  if #ownMessages > 0 then redis.call('HSET', rollupKey, 'ownMessages', cjson.encode(ownMessages)) end
  return uuid, true, {}
end

local function create(alertKey, bodyKey, seenKey, groupKey, body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey, fleet, rule, priority, host, pod, ns)
  local status = redis.call('HGET', alertKey, 'deliveryStatus')
  if status then
    if status == 'pending' then return {'undelivered'} end
    if status == 'rolled_up' then
      -- Its roll-up may not have been queued (an earlier request failed in between): queue it again.
      local rollup = redis.call('HGET', alertKey, 'rollup')
      if rollup and redis.call('HGET', rollupPrefix .. rollup, 'deliveryStatus') == 'pending' then
        return {'undelivered_rollup', rollup}
      end
    end
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
  local previous, inRollup, ownMessage
  if window ~= '0' then
    leader = redis.call('GET', groupKey)
    if leader then
      local found = redis.call('HMGET', alertPrefix .. leader, 'resolvedAt', 'rollup', 'deliveryStatus')
      if found[1] then
        -- Its incident was resolved: this occurrence starts a new one, whose message links back.
        previous, leader = leader, nil
      else
        inRollup, ownMessage = found[2], found[3] ~= 'rolled_up'
      end
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
        if inRollup then
          countOnRollup(rollupPrefix .. inRollup, leader, 1, receivedAt, host, pod, ns)
          -- Its members still arriving keep the rule's open roll-up open.
          if rollupsOn and not keepOpen[fleet] then
            keepOpen[fleet] = true
            keepOpenOrder[#keepOpenOrder + 1] = fleet
          end
        end
      end
    end
    if not leader then
      redis.call('SET', groupKey, uuid, 'EX', window)
      redis.call('ZADD', openGroupsKey, tonumber(score) + tonumber(window) * 1000, groupKey)
    end
  end
  local rollup, opened, rollupState
  if not leader and rollupsOn and post == '1' then
    rollup, opened, rollupState = rollupFor(fleet, uuid, score, rule, channel, priority, receivedAt, host, pod, ns)
  end
  local fields = {'receivedAt', receivedAt, 'channel', channel, 'post', post}
  if rollup then
    fields[7], fields[8], fields[9], fields[10] = 'deliveryStatus', 'rolled_up', 'deliveryAt', receivedAt
    fields[11], fields[12] = 'rollup', rollup
    -- Joining an acknowledged or escalated roll-up: the group is, as every member before it.
    if rollupState[3] then fields[#fields + 1], fields[#fields + 2] = 'acknowledgedBy', rollupState[3] end
    if rollupState[4] then fields[#fields + 1], fields[#fields + 2] = 'acknowledgedAt', rollupState[4] end
    if rollupState[5] then fields[#fields + 1], fields[#fields + 2] = 'escalatedBy', rollupState[5] end
    if rollupState[6] then fields[#fields + 1], fields[#fields + 2] = 'escalatedAt', rollupState[6] end
  elseif post == '1' then
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
  if leader then
    if inRollup then return {'member', leader, n, inRollup, ownMessage and 1 or 0} end
    return {'member', leader, n}
  end
  if rollup then
    local rollupKey = rollupPrefix .. rollup
    local c = joinRollup(rollupKey, uuid, 1, receivedAt, host, pod, ns)
    redis.call('SET', fleet .. ':open', rollup, 'EX', rollupWindow)
    if opened then
      c.opened = true
      return {'rolled_up', rollup, 1}
    end
    return {'rolled_up', rollup, 0}
  end
  return {'leader'}
end

local out = {}
local alerts = (#KEYS - FIXED_KEYS) / KEYS_PER_ALERT
for i = 0, alerts - 1 do
  local k, a = FIXED_KEYS + i * KEYS_PER_ALERT, FIXED_ARGS + i * ARGS_PER_ALERT
  local alertKey, bodyKey, seenKey, groupKey = unpack(KEYS, k + 1, k + KEYS_PER_ALERT)
  local body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey, fleet, rule, priority, host, pod, ns = unpack(ARGV, a + 1, a + ARGS_PER_ALERT)
  out[#out + 1] = create(alertKey, bodyKey, seenKey, groupKey, body, uuid, sample, channel, post, receivedAt, score, held, heldBy, ruleKey, fleet, rule, priority, host, pod, ns)
end
for _, key in ipairs(bucketOrder) do redis.call('ZADD', key, unpack(buckets[key])) end
if #byTime > 0 then redis.call('ZADD', byTimeKey, unpack(byTime)) end

-- Roll-ups' counts, summed over the batch.
for _, key in ipairs(rollupOrder) do
  local c = rollupCounts[key]
  redis.call('HINCRBY', key, 'total', c.total)
  if c.groups > 0 then redis.call('HINCRBY', key, 'groups', c.groups) end
  redis.call('HSET', key, 'last', c.last)
  for _, kind in ipairs({'members', 'hosts', 'pods', 'namespaces'}) do
    local t = c[kind]
    for _, name in ipairs(t.order) do redis.call('ZINCRBY', key .. ':' .. kind, t.n[name], name) end
  end
  if #c.where > 0 then redis.call('HSET', key .. ':where', unpack(c.where)) end
  if c.opened then
    for _, suffix in ipairs(ROLLUP_SETS) do
      if redis.call('EXISTS', key .. suffix) == 1 then redis.call('EXPIRE', key .. suffix, retention) end
    end
  end
end
for _, fleet in ipairs(keepOpenOrder) do redis.call('EXPIRE', fleet .. ':open', rollupWindow) end

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
