--[[
gcra (algorithm 5). State: the theoretical arrival time TAT in microseconds, carried by the
key's expiry: the key expires at E = ceil(TAT / 1000) ms and holds E * 1000 - TAT (0-999, an
integer Redis shares rather than stores). A TAT at or before now is an empty state, whatever
Redis has expired yet (the script's clock decides, not Redis's).
T = ceil(W * 1000 / L) us, tau = B * T; admits iff max(TAT, now) + c * T - now <= tau,
then TAT = max(TAT, now) + c * T.
Slots: x1 T, x2 tau, x3 TAT clamped to [now, now + 2 tau] (a debt may take it past now + tau).
Handle: the TAT after the charge; a give-back credits only while now < that TAT, at most
(that TAT - now) us. A debt moves the TAT on by its units, up to now + 2 tau.
A lease take charges what the bucket holds, between c and the lease; its seq is the units taken.
]]
-- @check
x1 = ceil(W * 1000 / L)
x2 = B * x1
x3 = now_us
local v = rpcall('GET', key)
-- Only the digits this script writes: tonumber alone would also take '9e2' or '0x1F'.
local r = type(v) == 'string' and tonumber(match(v, '^%d%d?%d?$'))
if r then
  -- -1 (no expiry: not ours) reads as a TAT long past.
  x3 = max(now_us, rcall('PEXPIRETIME', key) * 1000 - r)
end
if x3 > now_us + 2 * x2 then
  -- Written by a clock running ahead: clamped to the longest wait a debt leaves, and saved so.
  x3, dirty = now_us + 2 * x2, true
end
if lease > 0 then c = max(c, min(lease, floor((x2 - x3 + now_us) / x1))) end
if c > B then
  ok, retry = false, -1
elseif x3 + c * x1 - now_us <= x2 then
  ok, retry = true, 0
else
  ok, retry = false, ceil((x3 + c * x1 - x2 - now_us) / 1000)
end
-- @finish
-- Again: a request of several policies reads its arguments anew before the finish.
if lease > 0 then c = max(c, min(lease, floor((x2 - x3 + now_us) / x1))) end
if charge then
  x3 = x3 + c * x1
  handle = x3
  if lease > 0 then handle_s = c end
elseif give > 0 and give_h > now_us then
  x3, dirty = max(now_us, x3 - min(give * x1, give_h - now_us)), true
elseif debt > 0 then
  x3, dirty = min(x3 + debt * x1, now_us + 2 * x2), true
end
if charge or dirty then
  if x3 > now_us then
    local e = ceil(x3 / 1000)
    rcall('SET', key, fmt('%d', e * 1000 - x3), 'PXAT', fmt('%d', e))
  else
    rcall('DEL', key)
  end
end
remaining, reset = max(0, floor((x2 - (x3 - now_us)) / x1)), ceil((x3 - now_us) / 1000)
