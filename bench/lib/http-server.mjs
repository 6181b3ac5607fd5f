// A hello-world Nest app in its own process (so autocannon never shares its event loop).
// Env: BENCH_ADAPTER express|fastify, BENCH_STACK none|ours|ours-nocache|throttler, BENCH_REDIS_URL.
// Routes: GET /hello (budget no run can exhaust, 10k client ids in `x-client-id`),
// GET /flood (10 per hour: one abusive client id is denied for the whole run) and GET /open
// (never limited: what an unlimited route of an app using the module costs).
// Prints `READY <port>` once listening; exits on SIGTERM.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Throttle, ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { libUrl } from './snapshot.mjs';
import { BIG_LIMIT, DECISION_TIMEOUT_MS, FLOOD_LIMIT, FLOOD_WINDOW_MS, WINDOW_MS } from './limits.mjs';

const { RateLimit, RateLimitModule } = await import(libUrl('index.js'));

const adapter = process.env.BENCH_ADAPTER ?? 'express';
const stack = process.env.BENCH_STACK ?? 'none';
const url = process.env.BENCH_REDIS_URL;

// The same tracker for both limiters: the client id header, else the IP.
const clientOf = (req) => req.headers['x-client-id'] ?? req.ip;

class HelloController {
  hello() {
    return 'hello';
  }

  flood() {
    return 'hello';
  }

  open() {
    return 'hello';
  }
}

function decorateMethod(target, name, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  Object.defineProperty(target.prototype, name, Reflect.decorate(decorators, target.prototype, name, descriptor) ?? descriptor);
}

const helloDecorators = [Get('hello')];
const floodDecorators = [Get('flood')];
const imports = [];
const providers = [];

if (stack === 'ours' || stack === 'ours-nocache') {
  helloDecorators.push(RateLimit({ algorithm: 'fixed-window', limit: BIG_LIMIT, window: WINDOW_MS }));
  floodDecorators.push(RateLimit({ algorithm: 'fixed-window', limit: FLOOD_LIMIT, window: FLOOD_WINDOW_MS }));
  imports.push(
    RateLimitModule.forRoot({
      redis: url,
      tracker: (context) => clientOf(context.switchToHttp().getRequest()),
      denyCache: { enabled: stack === 'ours' },
      timeout: DECISION_TIMEOUT_MS,
    }),
  );
} else if (stack === 'throttler') {
  floodDecorators.push(Throttle({ default: { limit: FLOOD_LIMIT, ttl: FLOOD_WINDOW_MS, blockDuration: FLOOD_WINDOW_MS } }));
  imports.push(
    ThrottlerModule.forRoot({
      throttlers: [{ name: 'default', limit: BIG_LIMIT, ttl: WINDOW_MS }],
      storage: new ThrottlerStorageRedisService(url),
      getTracker: clientOf,
    }),
  );
  providers.push({ provide: APP_GUARD, useClass: ThrottlerGuard });
} else if (stack !== 'none') {
  throw new Error(`unknown BENCH_STACK ${stack}`);
}

decorateMethod(HelloController, 'hello', helloDecorators);
decorateMethod(HelloController, 'flood', floodDecorators);
decorateMethod(HelloController, 'open', [Get('open')]);
Controller()(HelloController);

class AppModule {}
Module({ imports, controllers: [HelloController], providers })(AppModule);

const appOptions = { logger: process.env.BENCH_VERBOSE ? undefined : ['error', 'warn'] };
const app =
  adapter === 'fastify'
    ? await NestFactory.create(AppModule, new FastifyAdapter(), appOptions)
    : await NestFactory.create(AppModule, appOptions);
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();
process.stdout.write(`READY ${port}\n`);

let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  app.close().finally(() => process.exit(0));
});
