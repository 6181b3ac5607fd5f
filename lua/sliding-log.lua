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
Slots: x1 the summary member (false: none, or the key is not a log this script wrote, which the
next charge replaces); x2 the cost in the window; x3 the highest sequence number at now. Handle:
the member's time and sequence; a give-back credits only that member, while it is in the window,
at most its cost. A debt is an entry of its own at now, up to 2L admitted in the window.
]]
-- @check
local head = rpcall('ZRANGE', key, '-inf', fmt('%d', now_ms - W), 'BYSCORE')
local foreign, newest = head.err ~= nil, 0
x1 = false
if not foreign and head[1] then
  local t, q, total = match(head[1], '^#(%d+):(%d+):(%d+)$')
  foreign = not t
  if t then
    x1, x2, newest = head[1], total + 0, t + 0
    if newest == now_ms then x3 = q + 0 end
    for j = 2, #head do
      local k = match(head[j], '^%d+:%d+:(%d+)$')
      if not k then
        foreign = true
        break
      end
      x2 = x2 - k
    end
  end
end
if not foreign and (newest > now_ms or (c <= L and x2 + c > L)) then
  -- A clock running ahead stamped entries after now: they count as admitted now (and the
  -- finish saves them so), and the sequence at now is the highest of theirs. Or a denial,
  -- whose retry is when enough of the oldest entries have left the window.
  local entries, freed = rpcall('ZRANGE', key, fmt('%d', now_ms - W + 1), '+inf', 'BYSCORE'), 0
  for j = 1, #entries do
    local t, q, k = match(entries[j], '^(%d+):(%d+):(%d+)$')
    if not t then
      foreign = true
      break
    end
    t, q, k = min(t + 0, now_ms), q + 0, k + 0
    if t == now_ms then x3 = max(x3, q) end
    freed = freed + k
    if retry < 0 and c <= L and x2 - freed + c <= L then retry = t + W - now_ms end
  end
  dirty = newest > now_ms
end
if foreign then
  -- Another type, or a member in another format: read as empty; the next charge replaces it.
  x1, x2, x3, dirty, retry = false, 0, 0, false, -1
end
if c > L then
  ok, retry = false, -1
elseif x2 + c <= L then
  ok, retry = true, 0
else
  ok = false
end
-- @finish
-- The summary's newest time and total (a charge writes its own), and the live entries (read
-- only when they change).
local newest, total, live = 0, 0, false
if x1 and not charge then
  local t, _, n = match(x1, '^#(%d+):(%d+):(%d+)$')
  newest, total = t + 0, n + 0
end
if dirty or (give > 0 and x1) then
  local entries = rcall('ZRANGE', key, fmt('%d', now_ms - W + 1), '+inf', 'BYSCORE')
  live = {}
  for j = 1, #entries do
    local t, q, k = match(entries[j], '^(%d+):(%d+):(%d+)$')
    if not t then
      -- Not all ours after all: nothing here to give back.
      live = false
      break
    end
    live[j] = { t + 0, k + 0, entries[j], q + 0 }
  end
end
-- The summary to write after the changes below (false: unchanged): newest time, its highest sequence.
local summary = false
if dirty then
  for j = 1, #live do
    local entry = live[j]
    if entry[1] > now_ms then
      rcall('ZREM', key, entry[3])
      x3 = x3 + 1
      entry[1], entry[3], entry[4] = now_ms, fmt('%d:%d:%d', now_ms, x3, entry[2]), x3
      rcall('ZADD', key, fmt('%d', now_ms), entry[3])
    end
  end
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  newest, summary = now_ms, { now_ms, x3 }
end
if debt > 0 then
  debt = min(debt, 2 * L - x2)
end
if charge or debt > 0 then
  local k = charge and c or debt
  if x1 then
    -- The entries that left the window go, and the summary with them (written anew with the entry).
    rcall('ZREMRANGEBYSCORE', key, '-inf', fmt('%d', now_ms - W))
    x1 = false
  else
    -- No summary: a new key, or a set this script did not write, which is replaced.
    rcall('DEL', key)
  end
  x3, x2, newest, summary = x3 + 1, x2 + k, now_ms, false
  rcall('ZADD', key, fmt('%d', now_ms), fmt('%d:%d:%d', now_ms, x3, k), '-inf', fmt('#%d:%d:%d', now_ms, x3, x2))
  rcall('PEXPIREAT', key, fmt('%d', now_ms + W))
  if charge then handle, handle_s = now_ms, x3 end
elseif give > 0 and live then
  for j = 1, #live do
    local entry = live[j]
    if entry[1] == give_h and entry[4] == give_s then
      rcall('ZREM', key, entry[3])
      local credit = min(give, entry[2])
      if entry[2] > give then
        rcall('ZADD', key, fmt('%d', give_h), fmt('%d:%d:%d', give_h, give_s, entry[2] - give))
      else
        table.remove(live, j)
      end
      x2, total = x2 - credit, total - credit
      -- The newest live entry and its highest sequence (the expired ones still in the set are older).
      local t, q = 0, 0
      for i = 1, #live do
        if live[i][1] > t then t, q = live[i][1], 0 end
        if live[i][1] == t then q = max(q, live[i][4]) end
      end
      newest, summary = t, { t, q }
      break
    end
  end
end
if summary then
  if x1 then rcall('ZREM', key, x1) end
  -- Every entry costs at least 1: a total of 0 is an empty set, which Redis deletes.
  if total > 0 then rcall('ZADD', key, '-inf', fmt('#%d:%d:%d', summary[1], summary[2], total)) end
end
if x2 == 0 then
  remaining, reset = L, 0
else
  remaining, reset = max(0, L - x2), newest + W - now_ms
end
