import { Inject, Injectable } from '@nestjs/common';
import type { RateLimitEvent } from 'nestjs-redis-rate-limit';
import { Subject } from 'rxjs';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { currentRoute } from './request-route.js';

/** One request this instance turned away: a 429, or a 503 of a fail-closed route while Redis is away. */
export interface BlockedRequest {
  at: number;
  instance: string;
  route: string;
  policy: string;
  /** The library's hashed tracker: the log never shows a raw client id. */
  client: string;
  status: 429 | 503;
  /** Seconds, as `Retry-After` says; `null` when the request can never pass. */
  retryAfter: number | null;
}

/** The library's `onDecision` events, turned into the dashboard's log of blocked requests. */
@Injectable()
export class DecisionFeed {
  readonly blocked = new Subject<BlockedRequest>();

  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  readonly onDecision = (event: RateLimitEvent): void => {
    const closed = event.outcome === 'failed' && event.failMode === 'closed';
    if (event.outcome !== 'denied' && !closed) return;
    const retryAfterMs = event.decision?.retryAfterMs;
    this.blocked.next({
      at: Date.now(),
      instance: this.config.instanceName,
      route: currentRoute() ?? '?',
      policy: event.policy,
      client: event.key,
      status: closed ? 503 : 429,
      retryAfter: closed ? null : retryAfterMs == null ? null : Math.max(1, Math.ceil(retryAfterMs / 1000)),
    });
  };
}
