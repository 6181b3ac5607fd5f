import { Test, TestingModule } from '@nestjs/testing';
import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { AppModule } from './../src/app.module.js';

describe('AppController (e2e)', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();

    app = moduleFixture.createNestApplication();
    await app.init();
  });

  afterAll(() => app.close());

  it('/ (GET) admits two requests a minute, then answers 429', async () => {
    const server = app.getHttpServer();
    const first = await request(server).get('/').expect(200).expect('Hello World!');
    expect(first.headers['x-ratelimit-limit']).toBe('2');
    expect(first.headers['x-ratelimit-remaining']).toBe('1');
    const second = await request(server).get('/').expect(200);
    expect(second.headers['x-ratelimit-remaining']).toBe('0');
    const denied = await request(server).get('/').expect(429);
    expect(denied.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(denied.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(denied.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('/health (GET) reports the limiter\'s Redis', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.info.redis).toMatchObject({ status: 'up', mode: 'standalone', breaker: 'closed' });
  });
});
