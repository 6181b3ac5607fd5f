--[[
decide: a batch of independent requests, each deciding all its policies atomically and
writing only if all of them admit. Requests are decided in order, each seeing the writes of
the ones before it, exactly as if each had its own call.

KEYS, per request, per policy in order: the state key, then the block key when blockFor > 0.
ARGV[1]  now in microseconds, or 0 to use Redis TIME (non-zero only in tests).
ARGV, per request from ARGV[2]: the number of policies n, then n pairs (few arguments: each
one costs Redis and the client):
  "algorithm:limit:window:burst:blockFor:shadow", all integers:
    algorithm  1 fixed-window, 2 sliding-window, 3 sliding-log, 4 token-bucket, 5 gcra, 6 concurrency
    limit      units per window (L)
    window     ms (W)
    burst      capacity of the buckets (B); ignored by the window algorithms
    blockFor   ms to block the key after a denial; 0 for none
    shadow     1 if the policy is observed but never vetoes
  cost       units this request takes (c); 0 peeks; or "-<units>:<handle>:<seq>", a give-back of
             units to the charge that returned that handle, "+0:<handle>:<seq>", the renewal
             of that charge (a concurrency slot), or "*<units>:0:0", a debt of units (a settle
             above its reservation; state may then exceed capacity by at most one capacity):
             all check as a peek and always apply; or "~<lease>:<cost>:0", a lease take of at
             least cost and up to lease units, as many as the budget has (fixed-window,
             token-bucket and gcra), decided as a request of the units it takes

Returns a flat list of integers, per request: allowed (0/1), then per policy
  allowed (0/1), remaining, resetMs, retryAfterMs (-1: the cost can never pass), handle, seq.
The handle (handle, seq) of a charge names what of the state that charge made, so that a
give-back credits only what is still there of it: the window end (fixed-window), the window
index (sliding-window), the log member's time and sequence (sliding-log), the TAT after the
charge in us (buckets), the slot's acquired time and sequence (concurrency). 0, 0 when nothing
was charged. The seq of a charged lease take is the units it took.

The build splices lua/policy.lua and the algorithm modules in at `-- @policy`, `-- @check`
and `-- @finish` (the algorithms as the branches of an if/elseif): one function and no closures per call,
because Redis runs this whole chunk for every EVALSHA. A check reads the state of `key` and
sets `ok`, `retry`, `block`, `dirty` (its clamped state must be saved even without a charge)
and the state slots `x1`..`x3` that the finish reads back to write and to set `remaining`,
`reset` and, for a charge, `handle` and `handle_s`. A request of one policy (the common case) runs check and finish in one pass.
The fragments may use only their own locals, the allowed globals and the names that
scripts/lua-compose.mjs lists as provided to their marker: the build checks every name.

Foreign data: no key's contents may fail the call (that would fail every request of the
batch) or change another request's decision. A state that a check cannot read (another type:
it reads with `rpcall`, which returns an error table where `rcall` would raise) or cannot
parse (anything but the exact format this script writes) is read as empty; a peek or a denial
then leaves the key and its TTL as they are, and the next write replaces it (SET replaces a
key of any type; a module whose writes need the key's type, like ZADD, deletes it first).
]]
local rcall, rpcall = redis.call, redis.pcall
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min
local tonumber, type, match, fmt = tonumber, type, string.match, string.format

local now_us = tonumber(ARGV[1])
if now_us == 0 then
  local t = rcall('TIME')
  now_us = t[1] * 1000000 + t[2]
end
local now_ms = floor(now_us / 1000)

-- P: the parsed policy strings of this call (the requests of a batch mostly share them).
-- S: per policy of a request, 7 slots: ok, retry, block ms (false: none), dirty, x1, x2, x3.
local P, S, out, o, arg_at, key_at, nargs = {}, {}, {}, 0, 2, 1, #ARGV
while arg_at <= nargs do
  local count = tonumber(ARGV[arg_at])
  arg_at = arg_at + 1
  if count == 1 then
    -- @policy
    local ok, retry, dirty, x1, x2, x3 = false, -1, false, 0, 0, 0
    -- @check
    local all_allowed = ok or shadow
    local charge = ok and c > 0
    local remaining, reset, handle, handle_s = 0, 0, 0, 0
    -- @finish
    if o == 0 and arg_at > nargs then
      -- The call's only request (a lone decision): its reply in one table constructor.
      return { all_allowed and 1 or 0, ok and 1 or 0, remaining, reset, retry, handle, handle_s }
    end
    out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = all_allowed and 1 or 0, ok and 1 or 0, remaining, reset, retry
    out[o + 6], out[o + 7] = handle, handle_s
    o = o + 7
  else
    local all_allowed, first_arg, first_key = true, arg_at, key_at
    for i = 1, count do
      -- @policy
      local ok, retry, dirty, x1, x2, x3 = false, -1, false, 0, 0, 0
      -- @check
      if not ok and not shadow then all_allowed = false end
      local s = i * 7
      S[s + 1], S[s + 2], S[s + 3], S[s + 4], S[s + 5], S[s + 6], S[s + 7] = ok, retry, block, dirty, x1, x2, x3
    end
    out[o + 1] = all_allowed and 1 or 0
    o = o + 1
    arg_at, key_at = first_arg, first_key
    for i = 1, count do
      -- @policy
      local s = i * 7
      local ok, retry, block, dirty, x1, x2, x3 = S[s + 1], S[s + 2], S[s + 3], S[s + 4], S[s + 5], S[s + 6], S[s + 7]
      local charge = all_allowed and ok and c > 0
      local remaining, reset, handle, handle_s = 0, 0, 0, 0
      -- @finish
      out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5], out[o + 6] = ok and 1 or 0, remaining, reset, retry, handle, handle_s
      o = o + 6
    end
  end
end
return out
