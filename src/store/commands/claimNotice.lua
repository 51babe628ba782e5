--[[
  Decides what a channel's backlog notice needs now and gives the caller alone the right to tell
  Slack: every worker process checks every channel, and one notice per channel means one process at
  a time may post, update or clear it. The claim lapses should its holder die talking to Slack.

  Input:
    KEYS[1]  the channel's backlog notice (hash: ts, shown, shownAt, peak, claim, claimUntil)
    ARGV[1]  posts waiting in the channel now
    ARGV[2]  more than this many waiting: a notice is due
    ARGV[3]  this many or fewer waiting: the backlog has cleared
    ARGV[4]  now, ms
    ARGV[5]  ms at least between two updates of the count
    ARGV[6]  the caller's claim token
    ARGV[7]  ms the claim lasts unless settled (settleNotice.lua)
    ARGV[8]  seconds the hash is kept after the last check that touched it

  Output:
    {'post', peak}        post a notice, then settle 'posted' with its ts
    {'update', ts, peak}  show the new count, then settle 'updated'
    {'clear', ts, peak}   mark the notice cleared, then settle 'cleared'
    {'none'}              nothing to tell Slack, or another process is telling it
]]
local key = KEYS[1]
local waiting, threshold, clearAt = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now, every, token = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local claimMs, keep = tonumber(ARGV[7]), tonumber(ARGV[8])

local f = redis.call('HMGET', key, 'ts', 'shown', 'shownAt', 'peak', 'claimUntil')
local ts = f[1] or ''
local shown, shownAt = tonumber(f[2] or '0'), tonumber(f[3] or '0')
local peak, claimUntil = tonumber(f[4] or '0'), tonumber(f[5] or '0')
if claimUntil > now then return {'none'} end
if waiting > peak then peak = waiting end

local function claim()
  redis.call('HSET', key, 'claim', token, 'claimUntil', now + claimMs, 'peak', peak)
  redis.call('EXPIRE', key, keep)
end

if ts == '' then
  if waiting <= threshold then return {'none'} end
  claim()
  return {'post', peak}
end
if waiting <= clearAt then
  claim()
  return {'clear', ts, peak}
end
if waiting ~= shown and now - shownAt >= every then
  claim()
  return {'update', ts, peak}
end
redis.call('HSET', key, 'peak', peak)
redis.call('EXPIRE', key, keep)
return {'none'}
