import type { ExecutionContext } from '@nestjs/common';

export type Plan = 'free' | 'premium';

/** The caller's API key (`X-Api-Key`), or `undefined` so the module's tracker (client IP) applies. */
export function apiKeyOf(context: ExecutionContext): string | undefined {
  const key = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? `key:${key}` : undefined;
}

/** The plan of the caller. A real app looks its API keys up; the sample reads a prefix. */
export function planOf(context: ExecutionContext): Plan {
  return apiKeyOf(context)?.startsWith('key:premium_') ? 'premium' : 'free';
}
