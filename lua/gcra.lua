--[[
gcra (algorithm 5). State: the theoretical arrival time TAT in microseconds.
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
local v = rpcall('GET', key)
-- Only the digits this script writes: tonumber alone would also take '9e15' or '0x1F'.
x3 = type(v) == 'string' and tonumber(match(v, '^%d+$')) or now_us
if x3 < now_us then
  x3 = now_us
elseif x3 > now_us + 2 * x2 then
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
    rcall('SET', key, fmt('%d', x3), 'PX', ceil((x3 - now_us) / 1000))
  else
    rcall('DEL', key)
  end
end
remaining, reset = max(0, floor((x2 - (x3 - now_us)) / x1)), ceil((x3 - now_us) / 1000)
