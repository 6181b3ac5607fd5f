// Both builds of the library in one process, the ESM build imported and the CommonJS build
// required, as when an app requires the package while one of its dependencies imports it.
// A request that passes the guards of both builds is charged once.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import * as esm from 'nestjs-redis-rate-limit';

const cjs = createRequire(import.meta.url)('nestjs-redis-rate-limit');
const redis = process.env.REDIS_URL;
assert.ok(redis, 'REDIS_URL names the Redis to use');
assert.notEqual(esm.RateLimitGuard, cjs.RateLimitGuard, 'the two builds are distinct copies');

/** A controller with one limited GET route whose decorators come from the given builds. */
function limitedController(path, { rateLimit, guard, limit }) {
  class LimitedController {
    hit() {
      return { ok: true };
    }
  }
  const decorators = [Get(), rateLimit({ limit, window: '1m' }), ...(guard ? [UseGuards(guard)] : [])];
  Reflect.decorate(decorators, LimitedController.prototype, 'hit', Object.getOwnPropertyDescriptor(LimitedController.prototype, 'hit'));
  Reflect.decorate([Controller(path)], LimitedController);
  return LimitedController;
}

async function remainingPerRequest(moduleImport, controller, requests) {
  class AppModule {}
  Reflect.decorate([Module({ imports: [moduleImport], controllers: [controller] })], AppModule);
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  try {
    const url = `${await app.getUrl()}/${Reflect.getMetadata('path', controller)}`;
    const seen = [];
    for (let i = 0; i < requests; i++) {
      const response = await fetch(url);
      seen.push(`${response.status} ${response.headers.get('x-ratelimit-remaining')}`);
    }
    return seen;
  } finally {
    await app.close();
  }
}

// The module (and its app-wide guard) from the ESM build, a hand-bound guard from the CommonJS one.
assert.deepEqual(
  await remainingPerRequest(
    esm.RateLimitModule.forRoot({ redis, keyPrefix: 'dual-esm-module' }),
    limitedController('esm-module', { rateLimit: cjs.RateLimit, guard: cjs.RateLimitGuard, limit: 3 }),
    4,
  ),
  ['200 2', '200 1', '200 0', '429 0'],
);

// The module from the CommonJS build without its app-wide guard; the only guard from the ESM build.
assert.deepEqual(
  await remainingPerRequest(
    cjs.RateLimitModule.forRoot({ redis, keyPrefix: 'dual-cjs-module', globalGuard: false }),
    limitedController('cjs-module', { rateLimit: esm.RateLimit, guard: esm.RateLimitGuard, limit: 2 }),
    3,
  ),
  ['200 1', '200 0', '429 0'],
);

console.log('dual package: both builds in one process, each request charged once');
