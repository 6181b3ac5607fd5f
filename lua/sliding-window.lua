--[[
sliding-window (algorithm 2). State: the string "<windowIndex>:<current>:<previous>".
Windows are aligned to multiples of W; with e = ms elapsed in the current window,
admits iff previous * (W - e) + (current + c) * W <= L * W.
Slots: x1 current window index, x2 current count, x3 previous count. Handle: the window index;
a give-back credits that window's count while it is the current or the previous one. A debt
goes into the current window's count, up to 2L.
]]
-- @check
x1 = floor(now_ms / W)
local e = now_ms - x1 * W
local v = rpcall('GET', key)
local at, cur, prev
if type(v) == 'string' then at, cur, prev = match(v, '^(%d+):(%d+):(%d+)$') end
if at then
  at = tonumber(at)
  if at >= x1 then
    -- A window ahead of ours (a clock running ahead) counts as the current one, saved so.
    x2, x3, dirty = tonumber(cur), tonumber(prev), at > x1
  elseif at == x1 - 1 then
    x3 = tonumber(cur)
  end
end
if c > L then
  ok, retry = false, -1
elseif x3 * (W - e) + (x2 + c) * W <= L * W then
  ok, retry = true, 0
else
  ok = false
  local k = (L - x2 - c) * W
  if k >= 0 then
    -- Within this window, once enough of the previous one has slid out.
    retry = W - e - floor(k / x3)
  else
    retry = (W - e) + W - floor((L - c) * W / x2)
  end
end
-- @finish
local e = now_ms - x1 * W
local write = charge or dirty
if charge then
  x2, handle = x2 + c, x1
elseif give > 0 then
  if give_h == x1 and x2 > 0 then
    x2, write = max(0, x2 - give), true
  elseif give_h == x1 - 1 and x3 > 0 then
    x3, write = max(0, x3 - give), true
  end
elseif debt > 0 then
  x2, write = min(x2 + debt, 2 * L), true
end
if write then
  rcall('SET', key, fmt('%d:%d:%d', x1, x2, x3), 'PX', 2 * W - e)
end
remaining = max(0, floor((L * W - x3 * (W - e)) / W) - x2)
if x2 > 0 then reset = 2 * W - e elseif x3 > 0 then reset = W - e end
