import { SetMetadata } from '@nestjs/common';
import { RATE_LIMIT_POLICIES } from '../rate-limit.constants.js';
import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';

/** Limits a controller or handler; several policies (distinct `name`s) are all enforced. */
export const RateLimit = (policy: RateLimitPolicy | RateLimitPolicy[]) =>
  SetMetadata(RATE_LIMIT_POLICIES, Array.isArray(policy) ? policy : [policy]);
