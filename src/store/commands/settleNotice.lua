--[[
  Records how Slack answered the process that claimed a channel's backlog notice
  (claimNotice.lua), while the claim is still that process's.

  Input:
    KEYS[1]  the channel's backlog notice (hash)
    ARGV[1]  the caller's claim token
    ARGV[2]  what happened: 'posted' (ARGV[5] is the message's ts), 'updated', 'cleared' (the notice
             is done: the hash goes), 'gone' (the message was deleted: the next notice is a new one),
             'failed' (a 429 or an error: the next check tries again)
    ARGV[3]  the count the message shows now ('posted', 'updated')
    ARGV[4]  now, ms
    ARGV[5]  the message's ts ('posted')

  Output: 1 recorded; 0 the claim had lapsed and is no longer the caller's
]]
local key, token, outcome = KEYS[1], ARGV[1], ARGV[2]
if redis.call('HGET', key, 'claim') ~= token then return 0 end
if outcome == 'posted' then
  redis.call('HSET', key, 'ts', ARGV[5], 'shown', ARGV[3], 'shownAt', ARGV[4])
elseif outcome == 'updated' then
  redis.call('HSET', key, 'shown', ARGV[3], 'shownAt', ARGV[4])
elseif outcome == 'cleared' or outcome == 'gone' then
  redis.call('DEL', key)
  return 1
elseif (redis.call('HGET', key, 'ts') or '') == '' then
  -- A notice that was never posted: nothing of it to keep.
  redis.call('DEL', key)
  return 1
end
redis.call('HDEL', key, 'claim', 'claimUntil')
return 1
