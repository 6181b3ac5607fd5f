--[[
decide: every policy of one request, decided atomically; writes only if all admit.

KEYS, per policy in order: the state key, then the block key when blockFor > 0.
ARGV[1]  now in microseconds, or 0 to use Redis TIME (non-zero only in tests).
ARGV, per policy, 7 integers from ARGV[2]:
  algorithm  1 fixed-window, 2 sliding-window, 3 sliding-log, 4 token-bucket, 5 gcra
  limit      units per window (L)
  window     ms (W)
  burst      capacity of the buckets (B); ignored by the window algorithms
  cost       units this request takes (c); 0 peeks; negative refunds -c units
  blockFor   ms to block the key after a denial; 0 for none
  shadow     1 if the policy is observed but never vetoes

Returns a flat list of integers: allowed (0/1), then per policy
  allowed (0/1), remaining, resetMs, retryAfterMs (-1: the cost can never pass).
]]
local rcall = redis.call
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min
local tonumber, match, fmt = tonumber, string.match, string.format

local ALGORITHMS = {}

-- @algorithms

local now_us = tonumber(ARGV[1])
if now_us == 0 then
  local t = rcall('TIME')
  now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local now_ms = floor(now_us / 1000)

local policies, count = {}, (#ARGV - 1) / 7
local key_index, all_allowed = 1, true
for i = 1, count do
  local a = 1 + (i - 1) * 7
  local p = {
    algorithm = ALGORITHMS[tonumber(ARGV[a + 1])],
    limit = tonumber(ARGV[a + 2]),
    window = tonumber(ARGV[a + 3]),
    burst = tonumber(ARGV[a + 4]),
    cost = tonumber(ARGV[a + 5]),
    block_for = tonumber(ARGV[a + 6]),
    shadow = ARGV[a + 7] == '1',
    key = KEYS[key_index],
  }
  key_index = key_index + 1
  if p.block_for > 0 then
    p.block_key = KEYS[key_index]
    key_index = key_index + 1
  end
  local s = p.algorithm.check(p, now_us, now_ms)
  p.state = s
  if p.cost < 0 then
    -- A refund gives back what an earlier call of this request took: it always applies.
    s.ok, s.retry = true, 0
  elseif p.block_key and p.cost > 0 then
    local until_ms = tonumber(rcall('GET', p.block_key))
    if until_ms and until_ms > now_ms then
      s.ok, s.block = false, until_ms - now_ms
      if s.retry >= 0 then s.retry = max(s.retry, s.block) end
    end
  end
  if not s.ok and not p.shadow then all_allowed = false end
  policies[i] = p
end

local out = { all_allowed and 1 or 0 }
for i = 1, count do
  local p = policies[i]
  local s = p.state
  local remaining, reset = p.algorithm.finish(p, s, (all_allowed and s.ok and p.cost ~= 0), now_us, now_ms)
  if not all_allowed and not s.ok and not s.block and not p.shadow and p.block_key and p.cost > 0 and s.retry >= 0 then
    rcall('SET', p.block_key, fmt('%d', now_ms + p.block_for), 'PX', p.block_for)
    s.block = p.block_for
    s.retry = max(s.retry, p.block_for)
  end
  if s.block then
    -- Nothing passes while blocked.
    remaining, reset = 0, max(reset, s.block)
  end
  out[#out + 1] = s.ok and 1 or 0
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = s.retry
end
return out
