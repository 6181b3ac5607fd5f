--[[
sliding-window (algorithm 2). State: the current and previous windows' counts in a key that
expires at the end of the window after the current one: the expiry, (index + 2) * W ms, names
the current window's index. The counts (cur, prev) are one integer, cur < prev and prev^2 + cur
or else cur^2 + cur + prev (a pairing that keeps small counts a small integer, which Redis
shares rather than stores), or the string "<cur>:<prev>" once a count passes 2^26 (the
integer would no longer be exact).
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
local cur, prev
if type(v) == 'string' then
  local z = tonumber(match(v, '^%d+$'))
  if z then
    local s = floor(math.sqrt(z))
    -- A double's square root may land one off.
    if s * s > z then s = s - 1 elseif (s + 1) * (s + 1) <= z then s = s + 1 end
    if z - s * s < s then cur, prev = z - s * s, s else cur, prev = s, z - s * s - s end
  else
    cur, prev = match(v, '^(%d+):(%d+)$')
  end
end
if cur then
  -- The expiry of a key this script wrote is a multiple of W; -1 (no expiry) and any other are not ours.
  local at = rcall('PEXPIRETIME', key) / W - 2
  if at >= x1 and at == floor(at) then
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
  local counts
  if max(x2, x3) >= 67108864 then
    counts = fmt('%d:%d', x2, x3)
  elseif x2 < x3 then
    counts = fmt('%d', x3 * x3 + x2)
  else
    counts = fmt('%d', x2 * x2 + x2 + x3)
  end
  rcall('SET', key, counts, 'PXAT', fmt('%d', (x1 + 2) * W))
end
local e = now_ms - x1 * W
remaining = max(0, floor((L * W - x3 * (W - e)) / W) - x2)
if x2 > 0 then reset = 2 * W - e elseif x3 > 0 then reset = W - e end
