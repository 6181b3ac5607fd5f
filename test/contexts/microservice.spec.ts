import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { ClientProxyFactory, MessagePattern, Payload, RpcException, Transport, type ClientProxy } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { RateLimit, RateLimitModule } from 'nestjs-redis-rate-limit';
import { freePort, RedisServer } from '../support/redis-server.js';

interface SumRequest {
  a: number;
  b: number;
  user: string;
}

interface Login {
  user: string;
  password: string;
}

@Controller()
class MathController {
  @MessagePattern('sum')
  @RateLimit({ algorithm: 'gcra', limit: 2, window: '1h', tracker: (ctx) => ctx.switchToRpc().getData<SumRequest>().user })
  sum(@Payload() data: SumRequest) {
    return data.a + data.b;
  }

  /** Only failed logins count: a successful one is given back when the handler completes. */
  @MessagePattern('login')
  @RateLimit({ name: 'login', limit: 2, window: '1h', refund: 'on-success', tracker: (ctx) => ctx.switchToRpc().getData<Login>().user })
  login(@Payload() data: Login) {
    if (data.password !== 'right') throw new RpcException({ status: 'error', message: 'wrong password' });
    return 'welcome';
  }

  /** One message of a user in flight at once: the slot is released when the handler completes. */
  @MessagePattern('export')
  @RateLimit({ name: 'export', algorithm: 'concurrency', limit: 1, window: '1h', tracker: (ctx) => ctx.switchToRpc().getData<Login>().user })
  async export(@Payload() data: Login) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (data.password === 'fail') throw new RpcException({ status: 'error', message: 'export failed' });
    return 'exported';
  }

  /** Reserves 5 tokens, settles to what the handler reports using. */
  @MessagePattern('complete')
  @RateLimit({ name: 'tokens', limit: 10, window: '1h', cost: 5, settle: ({ value }) => (value as { used: number }).used, tracker: (ctx) => ctx.switchToRpc().getData<Login>().user })
  complete() {
    return { used: 1 };
  }

  @MessagePattern('broken')
  @RateLimit({ limit: 2, window: '1h', tracker: () => { throw new Error('SECRET tracker detail'); } })
  broken() {
    return 'admitted';
  }
}

let redis: RedisServer;
let service: INestMicroservice;
let client: ClientProxy;

beforeAll(async () => {
  redis = await RedisServer.start();
  const port = await freePort();
  const moduleRef = await Test.createTestingModule({
    imports: [RateLimitModule.forRoot({ redis: redis.url, timeout: 5_000 })],
    controllers: [MathController],
  }).compile();
  service = moduleRef.createNestMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  service.useLogger(false);
  await service.listen();
  client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
});
afterAll(async () => {
  await client.close();
  await service.close();
  await redis.destroy();
});

const sum = (user: string) => firstValueFrom(client.send<number, SumRequest>('sum', { a: 1, b: 2, user }));

describe('a microservice message handler', () => {
  it('is limited by the app-wide guard and denied with an RpcException carrying the 429 body', async () => {
    const started = performance.now();
    expect(await sum('ada')).toBe(3);
    expect(await sum('ada')).toBe(3);
    const denied = await sum('ada').then(
      () => undefined,
      (error: unknown) => error as { retryAfter: number },
    );
    const elapsedMs = performance.now() - started;
    expect(denied).toEqual({ statusCode: 429, message: 'Too Many Requests', policy: 'default', retryAfter: expect.any(Number) });
    // 2 an hour: the first unit comes back 1800 s after it was taken, less the time the calls took.
    expect(denied!.retryAfter).toBeLessThanOrEqual(1800);
    expect(denied!.retryAfter).toBeGreaterThanOrEqual(1800 - Math.ceil(elapsedMs / 1000));
    expect(await sum('grace')).toBe(3);
  });

  it("refund 'on-success' counts only the messages whose handler failed", async () => {
    const login = (password: string) => firstValueFrom(client.send<string, Login>('login', { user: 'eve', password }));
    for (let i = 0; i < 4; i++) expect(await login('right')).toBe('welcome');
    await expect(login('wrong')).rejects.toEqual({ status: 'error', message: 'wrong password' });
    await expect(login('wrong')).rejects.toEqual({ status: 'error', message: 'wrong password' });
    await expect(login('right')).rejects.toEqual(expect.objectContaining({ statusCode: 429, policy: 'login' }));
  });

  it('concurrency: one message in flight; the slot is released when the handler completes or fails', async () => {
    const exportAs = (password: string) => firstValueFrom(client.send<string, Login>('export', { user: 'max', password }));
    const [first, second] = await Promise.allSettled([exportAs('ok'), exportAs('ok')]);
    expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
    await expect(exportAs('fail')).rejects.toEqual({ status: 'error', message: 'export failed' });
    expect(await exportAs('ok')).toBe('exported');
    expect(await exportAs('ok')).toBe('exported');
  });

  it('settle: the reservation is replaced by the cost the handler reports when it completes', async () => {
    const complete = () => firstValueFrom(client.send<{ used: number }, Login>('complete', { user: 'sam', password: '' }));
    for (let i = 0; i < 6; i++) expect(await complete()).toEqual({ used: 1 });
    await expect(complete()).rejects.toEqual(expect.objectContaining({ statusCode: 429, policy: 'tokens' }));
  });

  it("a failing tracker is an RpcException { status: 'error' } with nothing of its cause, never an admission", async () => {
    for (let i = 0; i < 3; i++) {
      await expect(firstValueFrom(client.send<string>('broken', {}))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    }
  });
});
