--[[
sliding-log (algorithm 3). State: a sorted set scored by admission time (ms), with
unique members "<timeMs>:<sequence>:<cost>". Exact: admits iff the cost admitted in
the last W ms plus c is at most L.
]]
ALGORITHMS[3] = {
  check = function(p, _, now)
    local L, W, c = p.limit, p.window, p.cost
    local entries = rcall('ZRANGE', p.key, fmt('%d', now - W + 1), '+inf', 'BYSCORE')
    local live, used, seq, future = {}, 0, 0, {}
    for i = 1, #entries do
      local t, q, k = match(entries[i], '^(%d+):(%d+):(%d+)$')
      t, q, k = tonumber(t), tonumber(q), tonumber(k)
      -- Entries from a clock running ahead count as admitted now, and are saved so (finish).
      if t > now then
        t = now
        future[#future + 1] = i
      end
      live[i] = { t, k, entries[i] }
      used = used + k
      if t == now then seq = max(seq, q) end
    end
    local s = { live = live, used = used, seq = seq, future = future }
    if c > L then
      s.ok, s.retry = false, -1
    elseif used + c <= L then
      s.ok, s.retry = true, 0
    else
      s.ok = false
      local freed = 0
      for i = 1, #live do
        freed = freed + live[i][2]
        if used - freed + c <= L then
          s.retry = live[i][1] + W - now
          break
        end
      end
    end
    return s
  end,
  finish = function(p, s, charge, _, now)
    local W, live, used = p.window, s.live, s.used
    local newest = live[#live] and live[#live][1]
    for _, i in ipairs(s.future) do
      local entry = live[i]
      rcall('ZREM', p.key, entry[3])
      s.seq = s.seq + 1
      entry[3] = fmt('%d:%d:%d', now, s.seq, entry[2])
      rcall('ZADD', p.key, fmt('%d', now), entry[3])
    end
    if #s.future > 0 then rcall('PEXPIRE', p.key, W) end
    if charge then
      if p.cost > 0 then
        rcall('ZREMRANGEBYSCORE', p.key, '-inf', fmt('%d', now - W))
        rcall('ZADD', p.key, fmt('%d', now), fmt('%d:%d:%d', now, s.seq + 1, p.cost))
        rcall('PEXPIRE', p.key, W)
        used, newest = used + p.cost, now
      else
        for i = #live, 1, -1 do
          if live[i][2] == -p.cost then
            rcall('ZREM', p.key, live[i][3])
            used = used - live[i][2]
            break
          end
        end
      end
    end
    if used == 0 then return p.limit, 0 end
    return max(0, p.limit - used), newest + W - now
  end,
}
