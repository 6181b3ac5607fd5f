import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Args, GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';
import { request, startApp, type HttpResult, type TestApp } from '../support/http-app.js';

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
}

interface GraphqlBody {
  data: Record<string, string | null> | null;
  errors?: Array<{ message: string; path: string[]; extensions: Record<string, unknown> }>;
}

let redis: RedisServer;
let app: TestApp;

beforeAll(async () => {
  redis = await RedisServer.start();
  app = await startApp('express', {
    imports: [
      RateLimitModule.forRoot({ redis: redis.url, timeout: 5_000, tracker: (ctx) => ctx.getArgByIndex<{ req: { headers: Record<string, string> } }>(2).req.headers['x-client'] }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs: 'type Query { hello: String, rare: String, open: String, broken: String, signIn(good: Boolean): String, report: String, answer: String }' }),
    ],
    providers: [GreetingResolver],
  });
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
  return result as HttpResult & { body: GraphqlBody };
}

describe('a GraphQL resolver (Apollo on Express)', () => {
  it('is limited by the app-wide guard; a denial is a GraphQLError with code RATE_LIMITED and the retry time', async () => {
    expect((await query('ada', 'hello')).body).toEqual({ data: { hello: 'hello' } });
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
        extensions: { code: 'RATE_LIMITED', statusCode: 429, message: 'Too Many Requests', policy: 'hello', retryAfter: 3600 },
      },
    ]);
    expect(denied.headers['retry-after']).toBe('3600');
    expect(JSON.stringify(denied.body)).not.toMatch(/redis|stack|at \//i);

    expect((await query('grace', 'hello')).body).toEqual({ data: { hello: 'hello' } });
  });

  it('charges each limited field of one operation under its own policy, and leaves the others alone', async () => {
    expect((await query('lin', 'hello rare open')).body).toEqual({ data: { hello: 'hello', rare: 'rare', open: 'open' } });
    const second = await query('lin', 'hello rare open');
    expect(second.body.data).toEqual({ hello: 'hello', rare: null, open: 'open' });
    expect(second.body.errors?.map((e) => [e.path, e.extensions.code, e.extensions.policy])).toEqual([[['rare'], 'RATE_LIMITED', 'rare']]);
    // `hello` was charged once per operation: its 2 units are spent.
    expect((await query('lin', 'hello')).body.errors?.[0].extensions.policy).toBe('hello');
  });

  it("refund 'on-success': a field that resolves is given back, one that throws counts", async () => {
    for (let i = 0; i < 4; i++) expect((await query('kay', 'signIn(good: true)')).body).toEqual({ data: { signIn: 'welcome' } });
    for (let i = 0; i < 2; i++) expect((await query('kay', 'signIn(good: false)')).body.errors?.[0].message).toBe('wrong password');
    expect((await query('kay', 'signIn(good: true)')).body.errors?.[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('a concurrency slot is released, and a settle applied, when the field resolves', async () => {
    for (let i = 0; i < 3; i++) expect((await query('zoe', 'report')).body).toEqual({ data: { report: 'report' } });
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await query('zoe', 'answer')).body.data?.answer ?? null);
    // Each keeps 1 of its 5: the 7th finds 6 used, and 6 + 5 > 10.
    expect(answers).toEqual(['answer', 'answer', 'answer', 'answer', 'answer', 'answer', null]);
  });

  it("a cost function that returns NaN is a GraphQLError with code INTERNAL_SERVER_ERROR, never an admission", async () => {
    const res = await query('ada', 'broken open');
    expect(res.body.data).toEqual({ broken: null, open: 'open' });
    expect(res.body.errors?.map((e) => [e.path, e.message, e.extensions.code])).toEqual([[['broken'], 'Internal server error', 'INTERNAL_SERVER_ERROR']]);
    expect(JSON.stringify(res.body)).not.toMatch(/NaN|cost|stack/i);
  });
});
