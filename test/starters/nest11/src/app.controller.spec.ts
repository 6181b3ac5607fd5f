import { Test, TestingModule } from '@nestjs/testing';
import { RateLimitModule, RateLimiterService } from 'nestjs-redis-rate-limit';
import { AppController } from './app.controller';

describe('AppController', () => {
  let moduleRef: TestingModule;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ store: 'memory' })],
      controllers: [AppController],
    }).compile();
  });

  afterEach(() => moduleRef.close());

  it('returns "Hello World!"', () => {
    expect(moduleRef.get(AppController).getHello()).toBe('Hello World!');
  });

  it('admits two requests a minute per key with the in-memory store', async () => {
    const limiter = moduleRef.get(RateLimiterService);
    const policy = { limit: 2, window: '1m' } as const;
    const allowed: boolean[] = [];
    for (let i = 0; i < 3; i++) allowed.push((await limiter.consume('client', policy)).allowed);
    expect(allowed).toEqual([true, true, false]);
  });
});
