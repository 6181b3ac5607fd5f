--[[
sliding-log (algorithm 3). State: a sorted set scored by admission time (ms), with
unique members "<timeMs>:<sequence>:<cost>", and a summary member at score -inf,
"#<newestMs>:<sequence>:<total>": the newest entry's time, the highest sequence at that time,
and the total cost of the entries in the set. Exact: admits iff the cost admitted in the last
W ms plus c is at most L.
A decision reads the summary and the entries that have left the window (one range from -inf,
so few members: the set is trimmed on every charge), never the whole log: the cost in the
window is the total less theirs. The live entries are read only to find a denial's retry
time, a give-back's entry, or entries stamped after now (a clock running ahead), which
count as admitted now and are saved so.
Slots: x1 {newest time, its highest sequence, expired entries, the summary member, live
entries {time, cost, member, stamped after now, sequence} oldest first or false when not
read} (and `foreign` set if the key is not a log this script wrote); x2 the cost in the
window; x3 the highest sequence number at now. Handle: the member's time and sequence; a
give-back credits only that member, while it is in the window, at most its cost. A debt is
an entry of its own at now, up to 2L admitted in the window.
]]
-- @check
local head = rpcall('ZRANGE', key, '-inf', fmt('%d', now_ms - W), 'BYSCORE')
local foreign = head.err ~= nil
x1 = { 0, 0, 0, false, false }
if not foreign and head[1] then
  local t, q, total = match(head[1], '^#(%d+):(%d+):(%d+)$')
  foreign = not t
  if t then
    x1[1], x1[2], x1[3], x1[4], x2 = t + 0, q + 0, #head - 1, total + 0, total + 0
    for j = 2, #head do
      local k = match(head[j], '^%d+:%d+:(%d+)$')
      if not k then
        foreign = true
        break
      end
      x2 = x2 - k
    end
    x1.summary = head[1]
  end
end
if not foreign and (x1[1] > now_ms or give > 0 or (c <= L and x2 + c > L)) then
  local entries = rpcall('ZRANGE', key, fmt('%d', now_ms - W + 1), '+inf', 'BYSCORE')
  local live = {}
  for j = 1, #entries do
    local t, q, k = match(entries[j], '^(%d+):(%d+):(%d+)$')
    if not t then
      foreign = true
      break
    end
    t, q, k = t + 0, q + 0, k + 0
    local ahead = t > now_ms
    if ahead then
      -- From a clock running ahead: counts as admitted now, and is saved so.
      t, dirty = now_ms, true
    end
    live[j] = { t, k, entries[j], ahead, q }
    if t == now_ms then x3 = max(x3, q) end
  end
  x1[5] = live
elseif x1[1] == now_ms then
  x3 = x1[2]
end
if foreign then
  -- Another type, or a member in another format: read as empty; the next charge deletes it.
  x1, x2, x3, dirty = { 0, 0, 0, false, false, foreign = true }, 0, 0, false
end
if c > L then
  ok, retry = false, -1
elseif x2 + c <= L then
  ok, retry = true, 0
else
  ok = false
  local live, freed = x1[5], 0
  for j = 1, #live do
    freed = freed + live[j][2]
    if x2 - freed + c <= L then
      retry = live[j][1] + W - now_ms
      break
    end
  end
end
-- @finish
-- The summary to write after the changes below (false: unchanged): newest time, its highest
-- sequence, total cost in the set.
local live, newest, total, summary = x1[5], x1[1], x1[4] or 0, false
if dirty then
  for j = 1, #live do
    local entry = live[j]
    if entry[4] then
      rcall('ZREM', key, entry[3])
      x3 = x3 + 1
      entry[3], entry[5] = fmt('%d:%d:%d', now_ms, x3, entry[2]), x3
      rcall('ZADD', key, fmt('%d', now_ms), entry[3])
    end
  end
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  newest, summary = now_ms, { now_ms, x3 }
end
if debt > 0 and not x1.foreign then
  debt = min(debt, 2 * L - x2)
end
if charge or debt > 0 then
  local k = charge and c or debt
  if x1.summary then
    -- The entries that left the window go, and the summary with them (written anew below).
    rcall('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', now_ms - W))
    x1.summary = false
  else
    -- No summary: a new key, or a set this script did not write, which is replaced.
    rcall('DEL', key)
  end
  x3 = x3 + 1
  rcall('ZADD', key, fmt('%d', now_ms), fmt('%d:%d:%d', now_ms, x3, k))
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  if charge then handle, handle_s = now_ms, x3 end
  x2, total, newest, summary = x2 + k, x2 + k, now_ms, { now_ms, x3 }
elseif give > 0 then
  for j = 1, #live do
    local entry = live[j]
    if entry[1] == give_h and entry[5] == give_s then
      rcall('ZREM', key, entry[3])
      local credit = min(give, entry[2])
      if entry[2] > give then
        rcall('ZADD', key, fmt('%d', give_h), fmt('%d:%d:%d', give_h, give_s, entry[2] - give))
        entry[2] = entry[2] - give
      else
        table.remove(live, j)
      end
      x2, total = x2 - credit, total - credit
      -- The newest live entry and its highest sequence (the expired ones still in the set are older).
      local t, q = 0, 0
      for i = 1, #live do
        if live[i][1] > t then t, q = live[i][1], 0 end
        if live[i][1] == t then q = max(q, live[i][5]) end
      end
      newest, summary = t, { t, q }
      break
    end
  end
end
if summary then
  if x1.summary then rcall('ZREM', key, x1.summary) end
  -- Every entry costs at least 1: a total of 0 is an empty set, which Redis deletes.
  if total > 0 then rcall('ZADD', key, '-inf', fmt('#%d:%d:%d', summary[1], summary[2], total)) end
end
if x2 == 0 then
  remaining, reset = L, 0
else
  remaining, reset = max(0, L - x2), newest + W - now_ms
end
