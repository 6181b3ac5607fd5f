import type { ExecutionContext } from '@nestjs/common';
import type { RateLimitPolicy } from 'nestjs-redis-rate-limit';

/** The tracker value of a login budget: one budget per account, on every instance. */
export const loginKey = (username: string) => `user:${username.toLowerCase()}`;

function usernameOf(context: ExecutionContext): string | undefined {
  const username = context.switchToHttp().getRequest<{ body?: { username?: unknown } }>().body?.username;
  return typeof username === 'string' && username.length > 0 ? loginKey(username) : undefined;
}

/**
 * 5 failed attempts per 15 minutes per account (`refund: 'on-success'`: a successful login
 * gives its own charge back); a 6th blocks the account's logins for 15 minutes. The `bucket`
 * lets `RateLimiterService.reset` reach this budget after a successful login, forgiving the
 * failed attempts too (a refund only returns the request's own charge).
 */
export const LOGIN_POLICY: RateLimitPolicy = {
  name: 'login',
  bucket: 'login',
  algorithm: 'sliding-log',
  limit: 5,
  window: '15m',
  blockFor: '15m',
  refund: 'on-success',
  tracker: usernameOf,
};
