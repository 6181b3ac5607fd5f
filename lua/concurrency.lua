--[[
concurrency (algorithm 6). State: a sorted set of slots, members "<acquiredMs>:<sequence>:<cost>"
scored by their expiry (ms). At most L units of slots live (expiry > now) at once; an admitted
request takes one slot of its cost (1: routes allow no other) until it is released (a
give-back), renewed to now + W, or expires after W (the slots of a crashed instance). A denial's retry is a one-second hint: slots free up when
requests finish, which no clock tells.
Slots: x1 the live slots {expiry, member, acquired, sequence, clamped, cost} (and `foreign` set
if the key is not a slot set this script wrote); x2 their total cost; x3 the highest sequence acquired
at now. Handle: the member's acquired time and sequence.
]]
-- @check
local found = rpcall('ZRANGE', key, '(' .. fmt('%d', now_ms), '+inf', 'BYSCORE', 'WITHSCORES')
local foreign = found.err ~= nil
x1 = {}
if not foreign then
  for j = 1, #found, 2 do
    local a, q, k = match(found[j], '^(%d+):(%d+):(%d+)$')
    local e = tonumber(found[j + 1])
    if not a or not e then
      foreign = true
      break
    end
    a, q, k = tonumber(a), tonumber(q), tonumber(k)
    local clamped = e > now_ms + W
    if clamped then
      -- Renewed by a clock running ahead: clamped to one slot TTL, and saved so.
      e, dirty = now_ms + W, true
    end
    x1[#x1 + 1] = { e, found[j], a, q, clamped, k }
    x2 = x2 + k
    if a == now_ms then x3 = max(x3, q) end
  end
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
  ok, retry = false, 1000
end
-- @finish
if dirty then
  for j = 1, #x1 do
    if x1[j][5] then rcall('ZADD', key, fmt('%d', x1[j][1]), x1[j][2]) end
  end
end
if charge then
  if x1.foreign then
    rcall('DEL', key)
  else
    rcall('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', now_ms))
  end
  handle, handle_s = now_ms, x3 + 1
  rcall('ZADD', key, fmt('%d', now_ms + W), fmt('%d:%d:%d', now_ms, handle_s, c))
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  x2 = x2 + c
elseif give > 0 or renew then
  for j = 1, #x1 do
    local slot = x1[j]
    if slot[3] == give_h and slot[4] == give_s then
      if renew then
        rcall('ZADD', key, fmt('%d', now_ms + W), slot[2])
        rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
      else
        rcall('ZREM', key, slot[2])
        x2 = x2 - slot[6]
      end
      break
    end
  end
end
remaining, reset = max(0, L - x2), 0
