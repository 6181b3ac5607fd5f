--[[
fixed-window (algorithm 1). State: the units used, an integer (below 10,000 Redis shares it
rather than stores it), in a key that expires at the window's end (ms): the end is the key's
expiry. A window whose end is at or before now is closed, whatever Redis has expired yet.
A window opens at an admitted request when none is open and lasts W; denials and
peeks never open one. Admits iff used + c <= L.
Slots: x1 window end (0: none open), x2 units used. Handle: the window end; a give-back
credits only the window it was charged in, while that window is open. A debt goes into the
open window (opening one if none is), up to 2L, forgiven when the window ends.
A lease take charges what the window has left, between c and the lease; its seq is the units taken.
]]
-- @check
local v = rpcall('GET', key)
local n = type(v) == 'string' and tonumber(match(v, '^%d+$'))
if n then
  -- -1 (no expiry: not ours) reads as a closed window.
  x1, x2 = rcall('PEXPIRETIME', key), n
  if x1 <= now_ms then
    x1, x2 = 0, 0
  elseif x1 > now_ms + W then
    -- Written by a clock running ahead: clamped to one window, and saved so.
    x1, dirty = now_ms + W, true
  end
end
if lease > 0 then c = max(c, min(lease, L - x2)) end
if c > L then
  ok, retry = false, -1
elseif x2 + c <= L then
  ok, retry = true, 0
else
  ok, retry = false, x1 - now_ms
end
-- @finish
-- Again: a request of several policies reads its arguments anew before the finish.
if lease > 0 then c = max(c, min(lease, L - x2)) end
if charge then
  if x1 == 0 or dirty then
    if x1 == 0 then x1 = now_ms + W end
    rcall('SET', key, fmt('%d', x2 + c), 'PXAT', fmt('%d', x1))
  else
    -- The open window's key keeps its expiry: a count alone is cheaper to write than a SET with one.
    rcall('INCRBY', key, fmt('%d', c))
  end
  x2, handle = x2 + c, x1
  if lease > 0 then handle_s = c end
elseif give > 0 and x1 > 0 and x1 == give_h then
  x2 = max(0, x2 - give)
  if x2 > 0 then
    rcall('SET', key, fmt('%d', x2), 'PXAT', fmt('%d', x1))
  else
    rcall('DEL', key)
    x1 = 0
  end
elseif debt > 0 then
  if x1 == 0 then x1 = now_ms + W end
  x2 = min(x2 + debt, 2 * L)
  rcall('SET', key, fmt('%d', x2), 'PXAT', fmt('%d', x1))
elseif dirty then
  rcall('SET', key, fmt('%d', x2), 'PXAT', fmt('%d', x1))
end
if x1 == 0 then
  remaining, reset = L, 0
else
  remaining, reset = max(0, L - x2), x1 - now_ms
end
