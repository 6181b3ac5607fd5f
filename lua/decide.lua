--[[
decide: every policy of one request, decided atomically; writes only if all admit.

KEYS, per policy in order: the state key, then the block key when blockFor > 0.
ARGV[1]  now in microseconds, or 0 to use Redis TIME (non-zero only in tests).
ARGV, per policy from ARGV[2], two values (few arguments: each one costs Redis and the client):
  "algorithm:limit:window:burst:blockFor:shadow", all integers:
    algorithm  1 fixed-window, 2 sliding-window, 3 sliding-log, 4 token-bucket, 5 gcra
    limit      units per window (L)
    window     ms (W)
    burst      capacity of the buckets (B); ignored by the window algorithms
    blockFor   ms to block the key after a denial; 0 for none
    shadow     1 if the policy is observed but never vetoes
  cost       units this request takes (c); 0 peeks; negative refunds -c units

Returns a flat list of integers: allowed (0/1), then per policy
  allowed (0/1), remaining, resetMs, retryAfterMs (-1: the cost can never pass).

The algorithm modules are code fragments, spliced in by the build as the branches of an
if/elseif on the algorithm: one function and no closures or tables per call, because Redis runs
this whole chunk for every EVALSHA. A check fragment reads the state of `key` and sets `ok`,
`retry`, `dirty` (its clamped state must be saved even without a charge) and the state slots
`x1`..`x3` that its finish fragment reads back to write and to set `remaining` and `reset`.
]]
local rcall = redis.call
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min
local tonumber, match, fmt = tonumber, string.match, string.format

local now_us = tonumber(ARGV[1])
if now_us == 0 then
  local t = rcall('TIME')
  now_us = t[1] * 1000000 + t[2]
end
local now_ms = floor(now_us / 1000)

-- Per policy, 9 slots of S: key index, block key index (0: none), ok, retry, block ms (false:
-- none), dirty, x1, x2, x3.
local count = (#ARGV - 1) / 2
local S, key_index, all_allowed = {}, 1, true
for i = 1, count do
  local s = (i - 1) * 9
  local algorithm, L, W, B, block_for, shadow = match(ARGV[i * 2], '^(%d):(%d+):(%d+):(%d+):(%d+):(%d)$')
  algorithm, L, W, B = tonumber(algorithm), tonumber(L), tonumber(W), tonumber(B)
  local c = tonumber(ARGV[i * 2 + 1])
  local key_at, block_at = key_index, 0
  local key = KEYS[key_at]
  key_index = key_index + 1
  if block_for ~= '0' then
    block_at, key_index = key_index, key_index + 1
  end
  local ok, retry, dirty, x1, x2, x3 = false, -1, false, 0, 0, 0
  -- @checks
  local block = false
  if c < 0 then
    -- A refund gives back what an earlier call of this request took: it always applies.
    ok, retry = true, 0
  elseif block_at > 0 and c > 0 then
    local until_ms = tonumber(rcall('GET', KEYS[block_at]))
    if until_ms and until_ms > now_ms then
      ok, block = false, until_ms - now_ms
      if retry >= 0 then retry = max(retry, block) end
    end
  end
  if not ok and shadow ~= '1' then all_allowed = false end
  S[s + 1], S[s + 2], S[s + 3], S[s + 4], S[s + 5], S[s + 6], S[s + 7], S[s + 8], S[s + 9] =
    key_at, block_at, ok, retry, block, dirty, x1, x2, x3
end

local out, o = { all_allowed and 1 or 0 }, 1
for i = 1, count do
  local s = (i - 1) * 9
  local algorithm, L, W, B, block_for, shadow = match(ARGV[i * 2], '^(%d):(%d+):(%d+):(%d+):(%d+):(%d)$')
  algorithm, L, W, B, block_for = tonumber(algorithm), tonumber(L), tonumber(W), tonumber(B), tonumber(block_for)
  local c = tonumber(ARGV[i * 2 + 1])
  local key, block_at, ok, retry, block, dirty, x1, x2, x3 =
    KEYS[S[s + 1]], S[s + 2], S[s + 3], S[s + 4], S[s + 5], S[s + 6], S[s + 7], S[s + 8], S[s + 9]
  local charge = all_allowed and ok and c ~= 0
  local remaining, reset = 0, 0
  -- @finishes
  if not all_allowed and not ok and not block and shadow ~= '1' and block_at > 0 and c > 0 and retry >= 0 then
    rcall('SET', KEYS[block_at], fmt('%d', now_ms + block_for), 'PX', block_for)
    block, retry = block_for, max(retry, block_for)
  end
  if block then
    -- Nothing passes while blocked.
    remaining, reset = 0, max(reset, block)
  end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = ok and 1 or 0, remaining, reset, retry
  o = o + 4
end
return out
