--[[
token-bucket (algorithm 4). State: the string "<creditUs>:<lastUs>", the bucket's
content measured in microseconds of refill (one token = T us, full = tau = B * T).
Refills L tokens per W and starts full; admits exactly what gcra admits.
]]
ALGORITHMS[4] = {
  check = function(p, now)
    local T = ceil(p.window * 1000 / p.limit)
    local tau = p.burst * T
    local credit = tau
    local v = rcall('GET', p.key)
    if v then
      local a, b = match(v, '^(%d+):(%d+)$')
      credit = min(tau, tonumber(a) + max(0, now - tonumber(b)))
    end
    local s = { T = T, tau = tau, credit = credit }
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
    if charge then
      credit = min(s.tau, credit - p.cost * s.T)
      if credit < s.tau then
        rcall('SET', p.key, fmt('%d:%d', credit, now), 'PX', ceil((s.tau - credit) / 1000))
      else
        rcall('DEL', p.key)
      end
    end
    return floor(credit / s.T), ceil((s.tau - credit) / 1000)
  end,
}
