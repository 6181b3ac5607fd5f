import type { PolicyResult, StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';

/**
 * The `decide` script's wire format (lua/decide.lua), in one place: store calls to KEYS and
 * ARGV, and the flat integer reply back to named verdicts.
 *
 * Per request: ARGV `n`, then n pairs ("algorithm:limit:window:burst:blockFor:shadow", cost),
 * the cost of a give-back being "-<units>:<handle>:<seq>", of a renewal "+0:<handle>:<seq>", of a
 * debt "*<units>:0:0", of a lease take "~<lease>:<cost>:0"; KEYS the state key of each call,
 * followed by its block key when it has one.
 * Reply per request: allowed, then per call allowed, remaining, resetMs, retryAfterMs (-1: never),
 * the charge's handle and seq (0, 0: not charged; a lease take's seq is the units it took).
 */
export function encodeRequest(calls: readonly StoreCall[], keys: string[], args: Array<string | number>): void {
  args.push(calls.length);
  for (const call of calls) {
    keys.push(call.key);
    if (call.blockKey !== undefined) keys.push(call.blockKey);
    args.push(`${call.algorithm}:${call.limit}:${call.windowMs}:${call.burst}:${call.blockForMs}:${call.shadow ? 1 : 0}`, costArg(call));
  }
}

function costArg({ cost, giveBack, renew, debt, lease }: StoreCall): string | number {
  if (giveBack) return `-${giveBack.units}:${giveBack.handle.value}:${giveBack.handle.seq}`;
  if (renew) return `+0:${renew.value}:${renew.seq}`;
  if (debt) return `*${debt}:0:0`;
  if (lease) return `~${lease}:${cost}:0`;
  return cost;
}

/** Integers of the reply taken by a request of `policies` calls. */
export const replyLength = (policies: number) => 1 + policies * 6;

/** The verdict of the request of `calls` whose reply starts at `at`. */
export function decodeVerdict(reply: readonly number[], at: number, calls: readonly StoreCall[]): StoreVerdict {
  const results: PolicyResult[] = new Array(calls.length);
  for (let i = 0, r = at + 1; i < calls.length; i++, r += 6) {
    const retry = reply[r + 3];
    const handle = reply[r + 4];
    const result: PolicyResult = {
      allowed: reply[r] === 1,
      remaining: reply[r + 1],
      resetMs: reply[r + 2],
      retryAfterMs: retry === -1 ? null : retry,
      charge: handle === 0 ? undefined : { value: handle, seq: calls[i].lease ? 0 : reply[r + 5] },
    };
    if (handle !== 0 && calls[i].lease) result.leased = reply[r + 5];
    results[i] = result;
  }
  return { allowed: reply[at] === 1, results };
}
