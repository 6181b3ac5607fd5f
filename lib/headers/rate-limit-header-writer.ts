import { ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { RateLimitDecision } from '../interfaces/rate-limit-decision.interface.js';
import { RATE_LIMIT_OPTIONS } from '../rate-limit.constants.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { RateLimitVerdict } from '../engine/rate-limit-verdict.js';

const seconds = (ms: number) => Math.ceil(ms / 1000);
/** `Retry-After` seconds: at least 1, or `null` when the request can never pass. */
export const retryAfterSeconds = (retryAfterMs: number | null) => (retryAfterMs === null ? null : Math.max(1, seconds(retryAfterMs)));

const waitRank = (d: RateLimitDecision) => d.retryAfterMs ?? Infinity;

/** The denying decision that shapes a 429: the longest wait, "never" being longest of all. */
export function denyingDecision(verdict: RateLimitVerdict): RateLimitDecision | undefined {
  let worst: RateLimitDecision | undefined;
  verdict.decisions.forEach((d, i) => {
    if (!d.allowed && !verdict.policies[i].shadow && (!worst || waitRank(d) > waitRank(worst))) worst = d;
  });
  return worst;
}

/** Header names as sent: Fastify sends its reply's headers in lower case, so they are given so (no lower-casing per write). */
const NAMES = {
  express: { retryAfter: 'Retry-After', limit: 'X-RateLimit-Limit', remaining: 'X-RateLimit-Remaining', reset: 'X-RateLimit-Reset', policy: 'RateLimit-Policy', state: 'RateLimit' },
  fastify: { retryAfter: 'retry-after', limit: 'x-ratelimit-limit', remaining: 'x-ratelimit-remaining', reset: 'x-ratelimit-reset', policy: 'ratelimit-policy', state: 'ratelimit' },
};

/** The decision the legacy headers show: the denying one, else the one with the least remaining. */
function shownDecision(decisions: readonly RateLimitDecision[], denying: RateLimitDecision | undefined): RateLimitDecision {
  if (denying) return denying;
  let least = decisions[0];
  for (let i = 1; i < decisions.length; i++) if (decisions[i].remaining < least.remaining) least = decisions[i];
  return least;
}

/** Writes `X-RateLimit-*`, IETF `RateLimit`/`RateLimit-Policy` and `Retry-After` through the HTTP adapter. */
@Injectable()
export class RateLimitHeaderWriter {
  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: ResolvedOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  write(response: unknown, verdict: RateLimitVerdict): void {
    const adapter = this.adapterHost.httpAdapter;
    const fastify = adapter.getType() === 'fastify';
    const names = fastify ? NAMES.fastify : NAMES.express;
    // A bare Node response under Fastify (a resolver's `res: reply.raw`) is one that Fastify's
    // adapter throws on before Nest 12.3: it is written with Node's `setHeader`, whose headers
    // Fastify's reply sends along with its own.
    const raw = fastify && response instanceof ServerResponse ? response : undefined;
    const set = (name: string, value: string) => (raw ? raw.setHeader(name, value) : adapter.setHeader(response, name, value));
    if (verdict.unavailableRetryMs !== undefined) {
      set(names.retryAfter, String(retryAfterSeconds(verdict.unavailableRetryMs)));
      return;
    }
    const { decisions } = verdict;
    if (decisions.length === 0) return;
    const denying = verdict.allowed ? undefined : denyingDecision(verdict);
    if (denying && denying.retryAfterMs !== null) set(names.retryAfter, String(retryAfterSeconds(denying.retryAfterMs)));

    const style = this.options.headers;
    if (style === 'legacy' || style === 'both') {
      const shown = shownDecision(decisions, denying);
      set(names.limit, String(shown.limit));
      set(names.remaining, String(shown.remaining));
      set(names.reset, String(seconds(shown.resetMs)));
    }
    if (style === 'ietf' || style === 'both') {
      let policy = '';
      let state = '';
      for (let i = 0; i < decisions.length; i++) {
        const d = decisions[i];
        const { spec } = verdict.policies[i];
        const windowMs = verdict.calls![i].windowMs;
        const separator = i === 0 ? '' : ', ';
        // No `w` for sub-second windows, nor for concurrency (a number in flight, not a rate).
        policy += `${separator}"${d.policy}";q=${d.limit}${windowMs >= 1000 && spec.kind !== 'slots' ? `;w=${Math.floor(windowMs / 1000)}` : ''}`;
        const t = !d.allowed && d.retryAfterMs !== null ? retryAfterSeconds(d.retryAfterMs) : seconds(d.resetMs);
        state += `${separator}"${d.policy}";r=${d.remaining};t=${t}`;
      }
      set(names.policy, policy);
      set(names.state, state);
    }
  }
}
