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

  it("a failing tracker is an RpcException { status: 'error' } with nothing of its cause, never an admission", async () => {
    for (let i = 0; i < 3; i++) {
      await expect(firstValueFrom(client.send<string>('broken', {}))).rejects.toEqual({ status: 'error', message: 'Internal server error' });
    }
  });
});
