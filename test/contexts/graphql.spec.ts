import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { CaptureLogger } from '../support/capture-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { rateLimitHeaders, sleep } from '../support/http-suite.js';
import { request, startApp, type AdapterName, type HttpResult, type TestApp } from '../support/http-app.js';

// Mercurius loads @fastify/static for its IDE (off here), and that loads an ESM-only package with
// `require`: Node 20 can (since 20.19), Jest's module loader cannot. So Mercurius is imported
// after this stand-in for the unused plugin.
jest.mock('@fastify/static', () => ({}));

@Resolver()
class GreetingResolver {
  @Query('hello')
  @RateLimit({ name: 'hello', limit: 2, window: '1h' })
  hello() {
    return 'hello';
  }

  @Query('rare')
  @RateLimit({ name: 'rare', algorithm: 'gcra', limit: 1, window: '1h' })
  rare() {
    return 'rare';
  }

  @Query('strict')
  @RateLimit({ name: 'strict', limit: 1, window: '1h' })
  strict() {
    return 'strict';
  }

  @Query('open')
  open() {
    return 'open';
  }

  /** Only failed sign-ins count. */
  @Query('signIn')
  @RateLimit({ name: 'signIn', limit: 2, window: '1h', refund: 'on-success' })
  signIn(@Args('good') good: boolean) {
    if (!good) throw new Error('wrong password');
    return 'welcome';
  }

  /** One at a time per client: the slot is released when the field resolves. */
  @Query('report')
  @RateLimit({ name: 'report', algorithm: 'concurrency', limit: 1, window: '1h' })
  report() {
    return 'report';
  }

  /** Reserves 5, settles to 1. */
  @Query('answer')
  @RateLimit({ name: 'answer', limit: 10, window: '1h', cost: 5, settle: () => 1 })
  answer() {
    return 'answer';
  }

  @Query('broken')
  @RateLimit({ name: 'broken', limit: 5, window: '1h', cost: () => NaN })
  broken() {
    return 'admitted';
  }

  @Query('guarded')
  @RateLimit({ name: 'guarded', limit: 5, window: '1h', failMode: 'closed' })
  guarded() {
    return 'guarded';
  }
}

const typeDefs = 'type Query { hello: String, rare: String, strict: String!, open: String, broken: String, guarded: String, signIn(good: Boolean): String, report: String, answer: String }';

type FastifyReply = { raw: ServerResponse };

type GraphqlModule = ReturnType<typeof GraphQLModule.forRoot>;

/** Each driver with the context it is used with: Apollo on Fastify needs the reply in its context to carry headers. */
const DRIVERS: Array<[string, AdapterName, () => GraphqlModule | Promise<GraphqlModule>]> = [
  ['Apollo on Express', 'express', () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs })],
  [
    'Apollo on Fastify, the reply in the context',
    'fastify',
    () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs, context: (req: unknown, reply: unknown) => ({ req, reply }) }),
  ],
  [
    "Apollo on Fastify, the reply's Node response as res",
    'fastify',
    () =>
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs, context: (req: unknown, reply: FastifyReply) => ({ req, res: reply.raw }) }),
  ],
  [
    'Mercurius',
    'fastify',
    async () => GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: (await import('@nestjs/mercurius')).MercuriusDriver, typeDefs }),
  ],
];

interface GraphqlBody {
  data: Record<string, string | null> | null;
  errors?: Array<{ message: string; path: string[]; extensions: Record<string, unknown> }>;
}

const logger = new CaptureLogger();

describe.each(DRIVERS)('a GraphQL resolver (%s)', (_name, adapter, graphqlModule) => {
  let redis: RedisServer;
  let app: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    app = await startApp(adapter, {
      imports: [
        RateLimitModule.forRoot({
          redis: redis.url,
          timeout: 5_000,
          headers: 'both',
          tracker: (ctx) => ctx.getArgByIndex<{ req: { headers: Record<string, string> } }>(2).req.headers['x-client'],
        }),
        await graphqlModule(),
      ],
      providers: [GreetingResolver],
    });
    app.app.useLogger(logger);
    logger.clear();
  });
  afterAll(async () => {
    await app?.close();
    await redis?.destroy();
  });

  async function query(client: string, fields: string): Promise<HttpResult & { body: GraphqlBody }> {
    const result = await request(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-client': client },
      body: JSON.stringify({ query: `{ ${fields} }` }),
    });
    expect(result.status).toBe(200);
    return result as HttpResult & { body: GraphqlBody };
  }

  /** Seconds left of an hour's window opened at `started`: 3600 less the whole seconds since, never an exact number. */
  const expectHourLeft = (seconds: unknown, started: number) => {
    expect(Number(seconds)).toBeLessThanOrEqual(3600);
    expect(Number(seconds)).toBeGreaterThanOrEqual(3600 - Math.ceil((performance.now() - started) / 1000));
  };

  /** Nest's exception handling logs any error it takes for a fault under 'ExceptionsHandler'. */
  const nestErrors = () => logger.entries.filter((e) => (e.level === 'error' || e.level === 'fatal') && e.context !== 'RateLimit');

  it('is limited by the app-wide guard; a denial is a GraphQL error with code RATE_LIMITED and the retry time, not logged by Nest', async () => {
    const started = performance.now();
    const first = await query('ada', 'hello');
    expect(first.body).toEqual({ data: { hello: 'hello' } });
    const reset = first.headers['x-ratelimit-reset'];
    expectHourLeft(reset, started);
    expect(rateLimitHeaders(first.headers)).toEqual({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '1',
      'x-ratelimit-reset': reset,
      'ratelimit-policy': '"hello";q=2;w=3600',
      ratelimit: `"hello";r=1;t=${reset}`,
    });
    const second = await query('ada', 'hello');
    expect(second.body).toEqual({ data: { hello: 'hello' } });
    expect(second.headers['x-ratelimit-remaining']).toBe('0');

    const denied = await query('ada', 'hello');
    expect(denied.body.data).toEqual({ hello: null });
    expect(denied.body.errors).toEqual([
      {
        message: 'Too Many Requests',
        path: ['hello'],
        locations: expect.any(Array),
        extensions: { code: 'RATE_LIMITED', statusCode: 429, message: 'Too Many Requests', policy: 'hello', retryAfter: expect.any(Number) },
      },
    ]);
    const retryAfter = denied.body.errors![0].extensions.retryAfter;
    expectHourLeft(retryAfter, started);
    expect(rateLimitHeaders(denied.headers)).toMatchObject({ 'retry-after': String(retryAfter), 'x-ratelimit-remaining': '0', ratelimit: `"hello";r=0;t=${retryAfter}` });
    expect(JSON.stringify(denied.body)).not.toMatch(/redis|stack|at \//i);

    expect((await query('grace', 'hello')).body).toEqual({ data: { hello: 'hello' } });
    expect(nestErrors()).toEqual([]);
  });

  it('charges each limited field of one operation under its own policy, and leaves the others alone', async () => {
    expect((await query('lin', 'hello rare open')).body).toEqual({ data: { hello: 'hello', rare: 'rare', open: 'open' } });
    const second = await query('lin', 'hello rare open');
    expect(second.body.data).toEqual({ hello: 'hello', rare: null, open: 'open' });
    expect(second.body.errors?.map((e) => [e.path, e.extensions.code, e.extensions.policy])).toEqual([[['rare'], 'RATE_LIMITED', 'rare']]);
    // `hello` was charged once per operation: its 2 units are spent.
    expect((await query('lin', 'hello')).body.errors?.[0].extensions.policy).toBe('hello');
  });

  it('a denied non-null field nulls its parent: here the whole data', async () => {
    const started = performance.now();
    expect((await query('kay', 'strict open')).body).toEqual({ data: { strict: 'strict', open: 'open' } });
    const denied = await query('kay', 'strict open');
    expect(denied.body.data).toBeNull();
    expect(denied.body.errors?.map((e) => [e.path, e.extensions.code])).toEqual([[['strict'], 'RATE_LIMITED']]);
    expectHourLeft(denied.headers['retry-after'], started);
  });

  it('a cost function that returns NaN is a GraphQL error with code INTERNAL_SERVER_ERROR, logged once by the module and never by Nest', async () => {
    for (const client of ['ada', 'grace']) {
      const res = await query(client, 'broken open');
      expect(res.body.data).toEqual({ broken: null, open: 'open' });
      expect(res.body.errors).toEqual([{ message: 'Internal server error', path: ['broken'], locations: expect.any(Array), extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(JSON.stringify(res.body)).not.toMatch(/NaN|cost|stack/i);
    }
    expect(logger.rateLimit('error', 'internal error')).toHaveLength(1);
    expect(nestErrors()).toEqual([]);
  });

  it("failMode 'closed' with Redis gone: a GraphQL error with code RATE_LIMITER_UNAVAILABLE and Retry-After, not logged by Nest", async () => {
    expect((await query('ada', 'guarded')).body).toEqual({ data: { guarded: 'guarded' } });
    await redis.stop();
    const res = await query('ada', 'guarded open');
    expect(res.body.data).toEqual({ guarded: null, open: 'open' });
    const [error] = res.body.errors ?? [];
    expect(error).toMatchObject({
      message: 'Rate limiter unavailable',
      path: ['guarded'],
      extensions: { code: 'RATE_LIMITER_UNAVAILABLE', statusCode: 503, message: 'Rate limiter unavailable', retryAfter: expect.any(Number) },
    });
    expect(error.extensions.retryAfter).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(res.body)).not.toMatch(/redis|ECONN|stack/i);
    expect(nestErrors()).toEqual([]);

    // Decisions resume once Redis is back (and the app's client then closes as usual).
    await redis.restart();
    let admitted = false;
    for (let i = 0; i < 100 && !admitted; i++) {
      admitted = (await query('ada', 'guarded')).body.data?.guarded === 'guarded';
      if (!admitted) await sleep(100);
    }
    expect(admitted).toBe(true);
  });

  it("refund 'on-success': a field that resolves is given back, one that throws counts", async () => {
    for (let i = 0; i < 4; i++) expect((await query('ivy', 'signIn(good: true)')).body).toEqual({ data: { signIn: 'welcome' } });
    for (let i = 0; i < 2; i++) expect((await query('ivy', 'signIn(good: false)')).body.errors?.[0].message).toBe('wrong password');
    expect((await query('ivy', 'signIn(good: true)')).body.errors?.[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('a concurrency slot is released, and a settle applied, when the field resolves', async () => {
    for (let i = 0; i < 3; i++) expect((await query('zoe', 'report')).body).toEqual({ data: { report: 'report' } });
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await query('zoe', 'answer')).body.data?.answer ?? null);
    // Each keeps 1 of its 5: the 7th finds 6 used, and 6 + 5 > 10.
    expect(answers).toEqual(['answer', 'answer', 'answer', 'answer', 'answer', 'answer', null]);
  });
});
