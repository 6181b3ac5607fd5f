--[[
gcra (algorithm 5). State: the theoretical arrival time TAT in microseconds.
T = ceil(W * 1000 / L) us, tau = B * T; admits iff max(TAT, now) + c * T - now <= tau,
then TAT = max(TAT, now) + c * T.
]]
ALGORITHMS[5] = {
  check = function(p, now)
    local T = ceil(p.window * 1000 / p.limit)
    local tau = p.burst * T
    local tat, dirty = tonumber(rcall('GET', p.key)) or now, false
    if tat < now then
      tat = now
    elseif tat > now + tau then
      -- Written by a clock running ahead: clamped to a full bucket's wait, and saved so.
      tat, dirty = now + tau, true
    end
    local s = { T = T, tau = tau, tat = tat, dirty = dirty }
    if p.cost > p.burst then
      s.ok, s.retry = false, -1
    elseif tat + p.cost * T - now <= tau then
      s.ok, s.retry = true, 0
    else
      s.ok, s.retry = false, ceil((tat + p.cost * T - tau - now) / 1000)
    end
    return s
  end,
  finish = function(p, s, charge, now)
    local tat = s.tat
    if charge then tat = max(now, tat + p.cost * s.T) end
    if charge or s.dirty then
      if tat > now then
        rcall('SET', p.key, fmt('%d', tat), 'PX', ceil((tat - now) / 1000))
      else
        rcall('DEL', p.key)
      end
    end
    return floor((s.tau - (tat - now)) / s.T), ceil((tat - now) / 1000)
  end,
}
