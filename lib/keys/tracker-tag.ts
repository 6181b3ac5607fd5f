import { createHash } from 'node:crypto';

// Raw values are kept readable when short and safe; anything else is hashed. A hashed tag
// starts with '~', which no raw tag contains, so a raw value can never equal another's hash.
const SAFE_TAG = /^[A-Za-z0-9._:/-]{1,45}$/;

/** The bounded, collision-safe cluster hash tag of a tracker value. */
export function trackerTag(tracker: string): string {
  return SAFE_TAG.test(tracker) ? tracker : `~${hashTracker(tracker)}`;
}

/** 16 base64url characters (96 bits) of the value's SHA-256. */
export function hashTracker(tracker: string): string {
  return createHash('sha256').update(tracker).digest('base64url').slice(0, 16);
}
