import { createHash } from 'node:crypto';
import { DECIDE_SCRIPT } from '../../generated/decide-script.js';

/** The sha1 of the `decide` script, which Redis, ioredis and node-redis all compute from its text the same way. */
export const DECIDE_SHA = createHash('sha1').update(DECIDE_SCRIPT).digest('hex');
