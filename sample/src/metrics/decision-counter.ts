import { Injectable } from '@nestjs/common';
import type { RateLimitEvent } from 'nestjs-redis-rate-limit';
import { currentRoute } from '../demo/request-route.js';

/**
 * `rate_limit_decisions_total{policy,route,outcome}` in Prometheus's text format, counted from
 * the library's `onDecision` events under the name and labels of the library's Prometheus
 * integration, so that the dashboard's chart reads `/metrics` as a Prometheus server would.
 */
@Injectable()
export class DecisionCounter {
  private readonly counts = new Map<string, number>();

  record(event: RateLimitEvent): void {
    const labels = `policy="${event.policy}",route="${currentRoute() ?? ''}",outcome="${event.outcome}"`;
    this.counts.set(labels, (this.counts.get(labels) ?? 0) + 1);
  }

  text(): string {
    const lines = ['# HELP rate_limit_decisions_total Rate limit decisions by policy, route and outcome.', '# TYPE rate_limit_decisions_total counter'];
    for (const [labels, count] of this.counts) lines.push(`rate_limit_decisions_total{${labels}} ${count}`);
    return `${lines.join('\n')}\n`;
  }
}
