import type { Duration } from '../interfaces/rate-limit-policy.interface.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds of a duration, or `undefined` if it is not a whole, positive number of ms. */
export function parseDuration(value: Duration | undefined): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (!match) return undefined;
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    return undefined;
  }
  return Number.isSafeInteger(ms) && ms >= 1 ? ms : undefined;
}
