/**
 * A tiny Nest application run as a SEPARATE PROCESS by the reliability tests (several of them
 * share one Redis). It runs the TypeScript sources directly, compiled on the fly by SWC:
 *
 *   node --import ./test/support/ts-register.mjs test/support/sample-process.ts
 *
 * Environment: REDIS_URL (required), LIMIT (default 100). One route per algorithm,
 * `GET /limited/<algorithm>`, limit LIMIT per day, tracked by the `x-client` header; and
 * `GET /slots/hold`, which never answers, under `HELD_SLOTS` (a concurrency policy).
 * Prints one line `{"port":<port>}` on stdout once it listens; exits on SIGTERM or when its
 * parent goes away (stdin closes).
 */
import 'reflect-metadata';
import { Controller, Get, Module, type ExecutionContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RateLimit, RateLimitModule, type RateLimitAlgorithm } from 'nestjs-redis-rate-limit';

const ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'sliding-log', 'token-bucket', 'gcra'];
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error('REDIS_URL is required');
const limit = Number(process.env.LIMIT ?? 100);

function controllerFor(algorithm: RateLimitAlgorithm): Type {
  @Controller(`limited/${algorithm}`)
  class LimitedController {
    @Get()
    @RateLimit({ algorithm, limit, window: '1d' })
    hit() {
      return { ok: true, pid: process.pid };
    }
  }
  Object.defineProperty(LimitedController, 'name', { value: `Limited_${algorithm.replace('-', '_')}` });
  return LimitedController;
}

/** Two requests in flight at once, slots expiring 2 s after their last renewal; shared through its bucket. */
const HELD_SLOTS = { name: 'held', algorithm: 'concurrency', limit: 2, window: '2s', bucket: 'held-slots' } as const;

@Controller('slots')
class SlotsController {
  @Get('hold')
  @RateLimit(HELD_SLOTS)
  hold() {
    return new Promise<never>(() => undefined);
  }
}

const tracker = (context: ExecutionContext) =>
  String(context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers['x-client'] ?? 'anonymous');

@Module({
  imports: [
    RateLimitModule.forRoot({
      redis: redisUrl,
      tracker,
      // Exactness under load is the point here, not latency: never fail open on a slow machine.
      timeout: 20_000,
      failMode: 'closed',
    }),
  ],
  controllers: [...ALGORITHMS.map(controllerFor), SlotsController],
})
class SampleModule {}

const app = await NestFactory.create(SampleModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
process.stdout.write(`${JSON.stringify({ port })}\n`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await app.close().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.resume();
