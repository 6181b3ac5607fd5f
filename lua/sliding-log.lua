--[[
sliding-log (algorithm 3). State: a sorted set scored by admission time (ms), with
unique members "<timeMs>:<sequence>:<cost>". Exact: admits iff the cost admitted in
the last W ms plus c is at most L.
Slots: x1 the live entries {time, cost, member, stamped after now, sequence}, oldest first (and
`foreign` set if the key is not a log this script wrote); x2 their total cost; x3 the highest
sequence number at now. Handle: the member's time and sequence; a give-back credits only that
member, while it is in the window, at most its cost. A debt is an entry of its own at now, up
to 2L admitted in the window.
]]
-- @check
local entries = rpcall('ZRANGE', key, fmt('%d', now_ms - W + 1), '+inf', 'BYSCORE')
local foreign = entries.err ~= nil
x1 = {}
for j = 1, #entries do
  local t, q, k = match(entries[j], '^(%d+):(%d+):(%d+)$')
  if not t then
    foreign = true
    break
  end
  t, q, k = tonumber(t), tonumber(q), tonumber(k)
  local ahead = t > now_ms
  if ahead then
    -- From a clock running ahead: counts as admitted now, and is saved so.
    t, dirty = now_ms, true
  end
  x1[j] = { t, k, entries[j], ahead, q }
  x2 = x2 + k
  if t == now_ms then x3 = max(x3, q) end
end
if foreign then
  -- Another type, or a member in another format: read as empty; the next charge deletes it.
  x1, x2, x3, dirty = { foreign = true }, 0, 0, false
end
if c > L then
  ok, retry = false, -1
elseif x2 + c <= L then
  ok, retry = true, 0
else
  ok = false
  local freed = 0
  for j = 1, #x1 do
    freed = freed + x1[j][2]
    if x2 - freed + c <= L then
      retry = x1[j][1] + W - now_ms
      break
    end
  end
end
-- @finish
local newest = x1[#x1] and x1[#x1][1]
if dirty then
  for j = 1, #x1 do
    local entry = x1[j]
    if entry[4] then
      rcall('ZREM', key, entry[3])
      x3 = x3 + 1
      entry[3], entry[5] = fmt('%d:%d:%d', now_ms, x3, entry[2]), x3
      rcall('ZADD', key, fmt('%d', now_ms), entry[3])
    end
  end
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
end
if debt > 0 and not x1.foreign then
  debt = min(debt, 2 * L - x2)
end
if charge or debt > 0 then
  local k = charge and c or debt
  if x1.foreign then
    rcall('DEL', key)
  else
    rcall('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', now_ms - W))
  end
  rcall('ZADD', key, fmt('%d', now_ms), fmt('%d:%d:%d', now_ms, x3 + 1, k))
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  if charge then handle, handle_s = now_ms, x3 + 1 end
  x2, newest = x2 + k, now_ms
elseif give > 0 then
  for j = 1, #x1 do
    local entry = x1[j]
    if entry[1] == give_h and entry[5] == give_s then
      rcall('ZREM', key, entry[3])
      if entry[2] > give then
        rcall('ZADD', key, fmt('%d', give_h), fmt('%d:%d:%d', give_h, give_s, entry[2] - give))
        x2 = x2 - give
      else
        x2 = x2 - entry[2]
        if j == #x1 then newest = j > 1 and x1[j - 1][1] end
      end
      break
    end
  end
end
if x2 == 0 then
  remaining, reset = L, 0
else
  remaining, reset = max(0, L - x2), newest + W - now_ms
end
