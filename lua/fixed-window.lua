--[[
fixed-window (algorithm 1). State: the string "<windowEndMs>:<used>".
A window opens at an admitted request when none is open and lasts W; denials and
peeks never open one. Admits iff used + c <= L.
]]
ALGORITHMS[1] = {
  check = function(p, _, now)
    local L, c = p.limit, p.cost
    local e, n, dirty = 0, 0, false
    local v = rcall('GET', p.key)
    if v then
      local a, b = match(v, '^(%d+):(%d+)$')
      e, n = tonumber(a), tonumber(b)
      if e <= now then
        e, n = 0, 0
      elseif e > now + p.window then
        -- Written by a clock running ahead: clamped to one window, and saved so (see finish).
        e, dirty = now + p.window, true
      end
    end
    local s = { e = e, n = n, dirty = dirty }
    if c > L then
      s.ok, s.retry = false, -1
    elseif n + c <= L then
      s.ok, s.retry = true, 0
    else
      s.ok, s.retry = false, e - now
    end
    return s
  end,
  finish = function(p, s, charge, _, now)
    local e, n = s.e, s.n
    if charge then
      if p.cost > 0 then
        if e == 0 then e = now + p.window end
        n = n + p.cost
      else
        n = max(0, n + p.cost)
      end
      if n > 0 then
        rcall('SET', p.key, fmt('%d:%d', e, n), 'PX', e - now)
      elseif e > 0 then
        rcall('DEL', p.key)
        e = 0
      end
    elseif s.dirty then
      rcall('SET', p.key, fmt('%d:%d', e, n), 'PX', e - now)
    end
    if e == 0 then return p.limit, 0 end
    return max(0, p.limit - n), e - now
  end,
}
