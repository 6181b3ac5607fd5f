import { Controller, Get, type ExecutionContext, type INestApplication, type ModuleMetadata, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Agent, request as httpRequest } from 'node:http';
import type { Redis } from 'ioredis';
import { RateLimit, type RateLimitAlgorithm, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { request, type AdapterName, type HttpResult } from './http-app.js';

/** Helpers shared by the HTTP suites in test/http (real Redis, real HTTP). */

export const ALGORITHMS: RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'sliding-log', 'token-bucket', 'gcra'];

/**
 * The `timeout` option of the suites that test something else than timeouts. On a shared, loaded
 * 2-core machine, redis-server and this process (client and servers at once) are scheduled late
 * at times, past the default 100 ms; a decision that times out follows failMode, and the suites
 * would see spurious admissions.
 */
export const DECISION_TIMEOUT = 5_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A GET with the given request headers. */
export const get = (url: string, headers: Record<string, string> = {}) => request(url, { headers });

/** `count` requests one after the other (each waits for the previous answer). */
export async function sequential(url: string, count: number, headers: Record<string, string> = {}): Promise<HttpResult[]> {
  const results: HttpResult[] = [];
  for (let i = 0; i < count; i++) results.push(await get(url, headers));
  return results;
}

/** Requests until the first non-200 answer (at most `max` requests); returns that answer. */
export async function untilDenied(url: string, headers: Record<string, string> = {}, max = 50): Promise<HttpResult> {
  for (let i = 0; i < max; i++) {
    const result = await get(url, headers);
    if (result.status !== 200) return result;
  }
  throw new Error(`${url} never denied in ${max} requests`);
}

/** The value of a request header, for trackers, tiers and costs. */
export function header(context: ExecutionContext, name: string): string | undefined {
  const value = (context.switchToHttp().getRequest() as { headers: Record<string, string | string[] | undefined> }).headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A module tracker keyed by the `x-client` request header, so each test owns its budget. */
export const clientHeaderTracker = (context: ExecutionContext) => header(context, 'x-client') ?? 'anonymous';

/**
 * A keep-alive HTTP agent for bursts: with hundreds of requests in flight, node:http on bounded
 * keep-alive sockets is several times cheaper than fetch on one socket per request (this process
 * is both the client and the servers, on a 2-core machine).
 */
export const burstAgent = (maxSocketsPerApp = 500) => new Agent({ keepAlive: true, maxSockets: maxSocketsPerApp });

/** Sends one GET per URL, all at once (the agent bounds the sockets per app), and returns the statuses in order. */
export function concurrentStatuses(urls: string[], headers: Record<string, string>, agent: Agent): Promise<number[]> {
  return Promise.all(
    urls.map(
      (url) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(url, { headers, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        }),
    ),
  );
}

/**
 * One burst of GETs with `headers` to `urls`, all at once, on a fresh burst agent: at most 500
 * connections per app, below the listen backlog (511), since a storm of connections beyond it
 * has its SYNs dropped and retried for seconds on a loaded machine ("Connect Timeout Error").
 * Sockets are reused only within the burst, never after sitting idle (where the server may close
 * them under the client: ECONNRESET, not a rate-limit result).
 */
export async function burstStatuses(urls: string[], headers: Record<string, string>): Promise<number[]> {
  const agent = burstAgent();
  try {
    return await concurrentStatuses(urls, headers, agent);
  } finally {
    agent.destroy();
  }
}

/** Every key of the keyspace with its PTTL in ms (-1: no TTL). */
export async function keysWithTtl(client: Redis): Promise<Map<string, number>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    batch.forEach((key) => keys.add(key));
  } while (cursor !== '0');
  const result = new Map<string, number>();
  for (const key of keys) {
    const ttl = await client.pttl(key);
    if (ttl !== -2) result.set(key, ttl);
  }
  return result;
}

/** The headers a rate limiter may write, lower-cased, as the client received them. */
export function rateLimitHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.startsWith('x-ratelimit-') || name.startsWith('ratelimit') || name === 'retry-after'),
  );
}

/**
 * Compiles and initialises an app that must refuse to start, and returns what it threw (or
 * `undefined` when it started). Whatever got created is closed again.
 */
/** A controller whose one route (`GET /bad`) is limited by `policy`: for start-up error cases. */
export function routeWith(policy: RateLimitPolicy | RateLimitPolicy[]): Type {
  @Controller('bad')
  class BadController {
    @Get()
    @RateLimit(policy)
    handler() {
      return { ok: true };
    }
  }
  return BadController;
}

export async function startupError(adapter: AdapterName, metadata: ModuleMetadata): Promise<unknown> {
  let moduleRef: TestingModule | undefined;
  let app: INestApplication | undefined;
  try {
    moduleRef = await Test.createTestingModule(metadata).compile();
    app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication();
    app.useLogger(false);
    await app.init();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await (app ?? moduleRef)?.close().catch(() => undefined);
  }
}
