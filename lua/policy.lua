--[[
The policy framework around the algorithm modules, spliced into lua/decide.lua.
@policy reads the next policy of ARGV (cursor `arg_at`) and its keys (cursor `key_at`), and
advances both.
@check follows the algorithm's check with the block key: a give-back always applies; a blocked
key denies whatever its state says. @finish follows the algorithm's finish: a denied request sets
the block, and nothing passes while blocked.
]]
-- @policy
local key, block_at, spec, c = KEYS[key_at], 0, ARGV[arg_at], tonumber(ARGV[arg_at + 1])
-- A give-back of `give` units to the charge whose handle is (give_h, give_s), the renewal of
-- that charge (a concurrency slot), or a debt of `debt` units (a settle above its reservation)
-- checks as a peek. A lease take costs at least `c` and up to `lease` units, as many as the
-- budget has: the algorithm's check raises `c` (and its finish again, after a re-read).
local give, give_h, give_s, renew, debt, lease = 0, 0, 0, false, 0, 0
if not c then
  local op, u, h, s = match(ARGV[arg_at + 1], '^([%-+*~])(%d+):(%d+):(%d+)$')
  c, give_h, give_s, renew = 0, tonumber(h) or 0, tonumber(s) or 0, op == '+'
  if op == '-' then
    give = tonumber(u)
  elseif op == '*' then
    debt = tonumber(u)
  elseif op == '~' then
    c, lease, give_h = give_h, tonumber(u), 0
  end
end
local p = P[spec]
if not p then
  local algorithm, L, W, B, block_for, shadow = match(spec, '^(%d):(%d+):(%d+):(%d+):(%d+):(%d)$')
  -- Arithmetic converts the digits the pattern matched, without tonumber's function call.
  p = { algorithm + 0, L + 0, W + 0, B + 0, block_for + 0, shadow == '1' }
  P[spec] = p
end
local algorithm, L, W, B, block_for, shadow = p[1], p[2], p[3], p[4], p[5], p[6]
key_at, arg_at = key_at + 1, arg_at + 2
if block_for > 0 then
  block_at, key_at = key_at, key_at + 1
end
-- @check
local block = false
if give > 0 or renew or debt > 0 then
  ok, retry = true, 0
elseif block_at > 0 and c > 0 then
  local v = rpcall('GET', KEYS[block_at])
  local until_ms = type(v) == 'string' and tonumber(match(v, '^%d+$'))
  if until_ms and until_ms > now_ms then
    ok, block = false, until_ms - now_ms
    if retry >= 0 then retry = max(retry, block) end
  end
end
-- @finish
if not ok and not block and not shadow and not all_allowed and block_at > 0 and c > 0 and retry >= 0 then
  rcall('SET', KEYS[block_at], fmt('%d', now_ms + block_for), 'PXAT', fmt('%d', now_ms + block_for))
  block, retry = block_for, max(retry, block_for)
end
if block then
  remaining, reset = 0, max(reset, block)
end
