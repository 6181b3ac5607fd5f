--[[
token-bucket (algorithm 4). State: the string "<creditUs>:<lastUs>", the bucket's
content measured in microseconds of refill (one token = T us, full = tau = B * T).
Refills L tokens per W and starts full; admits exactly what gcra admits.
]]
ALGORITHMS[4] = {
  check = function(p, now)
    local T = ceil(p.window * 1000 / p.limit)
    local tau = p.burst * T
    local credit, dirty = tau, false
    local v = rcall('GET', p.key)
    if v then
      local a, b = match(v, '^(%d+):(%d+)$')
      local last = tonumber(b)
      -- A write from a clock running ahead (last > now) drains what its lead would have
      -- refilled, as gcra's clamped TAT does, and is saved at our time.
      credit, dirty = min(tau, max(0, tonumber(a) + now - last)), last > now
    end
    local s = { T = T, tau = tau, credit = credit, dirty = dirty }
    if p.cost > p.burst then
      s.ok, s.retry = false, -1
    elseif credit >= p.cost * T then
      s.ok, s.retry = true, 0
    else
      s.ok, s.retry = false, ceil((p.cost * T - credit) / 1000)
    end
    return s
  end,
  finish = function(p, s, charge, now)
    local credit = s.credit
    if charge then credit = min(s.tau, credit - p.cost * s.T) end
    if charge or s.dirty then
      if credit < s.tau then
        rcall('SET', p.key, fmt('%d:%d', credit, now), 'PX', ceil((s.tau - credit) / 1000))
      else
        rcall('DEL', p.key)
      end
    end
    return floor(credit / s.T), ceil((s.tau - credit) / 1000)
  end,
}
