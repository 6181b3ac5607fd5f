import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { RATE_LIMIT_POLICIES } from '../rate-limit.constants.js';
import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import { RateLimitInterceptor } from '../interceptors/rate-limit.interceptor.js';

/** Whether a policy leaves work for after the response, which outside HTTP needs the interceptor. */
const needsAfterWork = (policy: RateLimitPolicy) =>
  typeof policy === 'object' && policy !== null && (policy.refund !== undefined || policy.settle !== undefined || policy.algorithm === 'concurrency');

/**
 * Limits a controller or handler; several policies (distinct `name`s) are all enforced.
 * Handlers with work after the response (`settle`, `refund`, `concurrency`) also get `RateLimitInterceptor`.
 */
export const RateLimit = (policy: RateLimitPolicy | RateLimitPolicy[]) => {
  const policies = Array.isArray(policy) ? policy : [policy];
  const metadata = SetMetadata(RATE_LIMIT_POLICIES, policies);
  return policies.some(needsAfterWork) ? applyDecorators(metadata, UseInterceptors(RateLimitInterceptor)) : metadata;
};
