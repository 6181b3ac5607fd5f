--[[
sliding-window (algorithm 2). State: the string "<windowIndex>:<current>:<previous>".
Windows are aligned to multiples of W; with e = ms elapsed in the current window,
admits iff previous * (W - e) + (current + c) * W <= L * W.
]]
ALGORITHMS[2] = {
  check = function(p, _, now)
    local L, W, c = p.limit, p.window, p.cost
    local idx = floor(now / W)
    local e = now - idx * W
    local cur, prev, dirty = 0, 0, false
    local v = rcall('GET', p.key)
    if v then
      local a, b, d = match(v, '^(%d+):(%d+):(%d+)$')
      a = tonumber(a)
      if a >= idx then
        -- A window ahead of ours (a clock running ahead) counts as the current one, saved so.
        cur, prev, dirty = tonumber(b), tonumber(d), a > idx
      elseif a == idx - 1 then
        prev = tonumber(b)
      end
    end
    local s = { idx = idx, e = e, cur = cur, prev = prev, dirty = dirty }
    if c > L then
      s.ok, s.retry = false, -1
    elseif prev * (W - e) + (cur + c) * W <= L * W then
      s.ok, s.retry = true, 0
    else
      s.ok = false
      local k = (L - cur - c) * W
      if k >= 0 then
        s.retry = W - e - floor(k / prev)
      else
        s.retry = (W - e) + W - floor((L - c) * W / cur)
      end
    end
    return s
  end,
  finish = function(p, s, charge)
    local W, cur, prev, e = p.window, s.cur, s.prev, s.e
    if charge then cur = max(0, cur + p.cost) end
    if charge or s.dirty then
      rcall('SET', p.key, fmt('%d:%d:%d', s.idx, cur, prev), 'PX', 2 * W - e)
    end
    local remaining = max(0, floor((p.limit * W - prev * (W - e)) / W) - cur)
    local reset = 0
    if cur > 0 then reset = 2 * W - e elseif prev > 0 then reset = W - e end
    return remaining, reset
  end,
}
