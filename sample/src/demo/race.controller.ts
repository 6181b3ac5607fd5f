import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample-config.js';
import { RACE_LIMIT } from './demo-routes.controller.js';

interface Tally {
  admitted: number;
  denied: number;
  failed: number;
}

const MAX_BURST = 200;

/**
 * Fires one concurrent burst, from this instance, at the naive route and at the library's route
 * alike (through the load balancer, or spread over every instance), with one fresh API key.
 * It runs here rather than in the browser, which sends at most six requests at once per host.
 */
@Controller('demo')
export class RaceController {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  @Post('race')
  @HttpCode(200)
  async race(@Body() body: { count?: unknown } | undefined) {
    const requested = Number(body?.count ?? 60);
    const count = Number.isInteger(requested) ? Math.min(MAX_BURST, Math.max(1, requested)) : 60;
    const targets = this.config.raceTargets.length ? this.config.raceTargets : [`http://${this.config.host}:${this.config.port}`];
    const headers = { 'x-api-key': `race-${randomUUID().slice(0, 8)}` };
    const naive: Tally = { admitted: 0, denied: 0, failed: 0 };
    const atomic: Tally = { admitted: 0, denied: 0, failed: 0 };
    const send = async (path: string, tally: Tally, target: string) => {
      const status = await fetch(target + path, { headers }).then(
        async (response) => (await response.arrayBuffer(), response.status),
        () => 0,
      );
      tally[status === 200 ? 'admitted' : status === 429 ? 'denied' : 'failed']++;
    };
    await Promise.all(
      Array.from({ length: count }, (_, i) => [
        send('/demo/naive', naive, targets[i % targets.length]),
        send('/demo/atomic', atomic, targets[i % targets.length]),
      ]).flat(),
    );
    return { limit: RACE_LIMIT, count, naive, atomic };
  }
}
