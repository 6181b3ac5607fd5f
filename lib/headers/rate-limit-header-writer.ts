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

/** Writes `X-RateLimit-*`, IETF `RateLimit`/`RateLimit-Policy` and `Retry-After` through the HTTP adapter. */
@Injectable()
export class RateLimitHeaderWriter {
  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: ResolvedOptions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  write(response: unknown, verdict: RateLimitVerdict): void {
    const set = this.setter(response);
    if (verdict.unavailableRetryMs !== undefined) {
      set('Retry-After', String(retryAfterSeconds(verdict.unavailableRetryMs)));
      return;
    }
    const { decisions } = verdict;
    if (decisions.length === 0) return;
    const denying = verdict.allowed ? undefined : denyingDecision(verdict);
    if (denying && denying.retryAfterMs !== null) set('Retry-After', String(retryAfterSeconds(denying.retryAfterMs)));

    const style = this.options.headers;
    if (style === 'legacy' || style === 'both') {
      const shown = denying ?? decisions.reduce((least, d) => (d.remaining < least.remaining ? d : least));
      set('X-RateLimit-Limit', String(shown.limit));
      set('X-RateLimit-Remaining', String(shown.remaining));
      set('X-RateLimit-Reset', String(seconds(shown.resetMs)));
    }
    if (style === 'ietf' || style === 'both') {
      const policy: string[] = [];
      const state: string[] = [];
      decisions.forEach((d, i) => {
        const { spec } = verdict.policies[i];
        const windowMs = verdict.calls![i].windowMs;
        // No `w` for sub-second windows, nor for concurrency (a number in flight, not a rate).
        policy.push(`"${d.policy}";q=${d.limit}${windowMs >= 1000 && spec.kind !== 'slots' ? `;w=${Math.floor(windowMs / 1000)}` : ''}`);
        const t = !d.allowed && d.retryAfterMs !== null ? retryAfterSeconds(d.retryAfterMs) : seconds(d.resetMs);
        state.push(`"${d.policy}";r=${d.remaining};t=${t}`);
      });
      set('RateLimit-Policy', policy.join(', '));
      set('RateLimit', state.join(', '));
    }
  }

  /**
   * Writes through the adapter, which takes its own response object: Express's response or
   * Fastify's reply. A bare Node response under Fastify (a resolver's `res: reply.raw`) is one
   * that Fastify's adapter throws on before Nest 12.3: it is written with Node's `setHeader`,
   * whose headers Fastify's reply sends along with its own.
   */
  private setter(response: unknown): (name: string, value: string) => void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.getType() === 'fastify' && response instanceof ServerResponse) return (name, value) => response.setHeader(name, value);
    return (name, value) => adapter.setHeader(response, name, value);
  }
}
