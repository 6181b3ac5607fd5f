--[[
token-bucket (algorithm 4). State: the time the bucket is full again, in microseconds (its
tokens and their refill time in one number: full at F, it holds B - (F - now) / T tokens at
now), carried by the key's expiry as gcra's TAT is: the key expires at E = ceil(F / 1000) ms
and holds E * 1000 - F (0-999). An F at or before now is a full bucket.
The content is measured in microseconds of refill (one token = T us, full = tau = B * T), down to
-tau after a debt.
Refills L tokens per W and starts full; admits exactly what gcra admits.
Slots: x1 T, x2 tau, x3 credit. Handle: the TAT after the charge (now + tau - credit), as in
gcra; a give-back credits only while now < that TAT, at most (that TAT - now) us. A debt takes
its units from the credit, down to -tau.
A lease take charges what the bucket holds, between c and the lease; its seq is the units taken.
]]
-- @check
x1 = ceil(W * 1000 / L)
x2 = B * x1
x3 = x2
local v = rpcall('GET', key)
local r = type(v) == 'string' and tonumber(match(v, '^%d%d?%d?$'))
if r then
  -- -1 (no expiry: not ours) reads as a bucket long full. A full time past now + 2 tau (a
  -- clock running ahead) drains what its lead would have refilled, down to -tau, and is saved so.
  local full = rcall('PEXPIRETIME', key) * 1000 - r
  x3, dirty = min(x2, max(-x2, x2 - (full - now_us))), full > now_us + 2 * x2
end
if lease > 0 then c = max(c, min(lease, floor(x3 / x1))) end
if c > B then
  ok, retry = false, -1
elseif x3 >= c * x1 then
  ok, retry = true, 0
else
  ok, retry = false, ceil((c * x1 - x3) / 1000)
end
-- @finish
-- Again: a request of several policies reads its arguments anew before the finish.
if lease > 0 then c = max(c, min(lease, floor(x3 / x1))) end
if charge then
  x3 = x3 - c * x1
  handle = now_us + x2 - x3
  if lease > 0 then handle_s = c end
elseif give > 0 and give_h > now_us then
  x3, dirty = min(x2, x3 + min(give * x1, give_h - now_us)), true
elseif debt > 0 then
  x3, dirty = max(x3 - debt * x1, -x2), true
end
if charge or dirty then
  if x3 < x2 then
    local full = now_us + x2 - x3
    local e = ceil(full / 1000)
    rcall('SET', key, fmt('%d', e * 1000 - full), 'PXAT', fmt('%d', e))
  else
    rcall('DEL', key)
  end
end
remaining, reset = max(0, floor(x3 / x1)), ceil((x2 - x3) / 1000)
