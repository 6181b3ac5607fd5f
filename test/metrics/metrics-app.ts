import { Controller, Get, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { RateLimit, RateLimitModule, type RateLimitModuleOptions } from 'nestjs-redis-rate-limit';
import { startApp, type TestApp } from '../support/http-app.js';
import { clientHeaderTracker } from '../support/http-suite.js';

/** Routes whose decisions the metrics suites count: one per outcome they provoke. */
@Controller()
export class LimitedController {
  /** 3 per minute: allowed, then denied (from Redis, then from the deny cache). */
  @Get('limited')
  @RateLimit({ limit: 3, window: '1m' })
  limited() {
    return 'ok';
  }

  /** A budget no suite exhausts: every decision Redis makes here is allowed. */
  @Get('open')
  @RateLimit({ name: 'open', limit: 1_000_000, window: '1m' })
  open() {
    return 'ok';
  }

  /** 1 per minute, in shadow mode: later requests pass as shadow denials. */
  @Get('shadow')
  @RateLimit({ name: 'trial', limit: 1, window: '1m', mode: 'shadow' })
  shadow() {
    return 'ok';
  }

  /** A tracker that throws: the request is answered 500 and decided nothing. */
  @Get('broken')
  @RateLimit({
    name: 'broken',
    limit: 5,
    window: '1m',
    tracker: () => {
      throw new Error('no tracker here');
    },
  })
  broken() {
    return 'ok';
  }
}

export interface MetricsAppSetup {
  /** The metrics module under test (`RateLimitPrometheusModule.forRoot(...)`, ...). */
  metrics: DynamicModule;
  options: RateLimitModuleOptions;
  controllers?: Type[];
  providers?: Provider[];
}

/** An Express app with `RateLimitModule` (tracker: the `x-client` header), the metrics module and `LimitedController`. */
export function startMetricsApp({ metrics, options, controllers = [], providers = [] }: MetricsAppSetup): Promise<TestApp> {
  return startApp('express', {
    imports: [RateLimitModule.forRoot({ tracker: clientHeaderTracker, ...options }), metrics],
    controllers: [LimitedController, ...controllers],
    providers,
  });
}
