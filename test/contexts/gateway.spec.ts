import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UseGuards } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { WebSocket } from 'ws';
import { RateLimit, RateLimitConfigError, RateLimitGuard, RateLimitModule } from 'nestjs-redis-rate-limit';
import { RedisServer } from '../support/redis-server.js';

/** Bound by hand as well as app-wide: each message is still charged once. */
@WebSocketGateway()
class ChatGateway {
  @SubscribeMessage('say')
  @UseGuards(RateLimitGuard)
  @RateLimit({ algorithm: 'fixed-window', limit: 2, window: '1h' })
  say() {
    return { event: 'said', data: 'ok' };
  }

  @SubscribeMessage('broken')
  @RateLimit({ limit: 2, window: '1h', tracker: () => { throw new Error('SECRET tracker detail'); } })
  broken() {
    return { event: 'said', data: 'admitted' };
  }
}

@WebSocketGateway()
class UnguardedGateway {
  @SubscribeMessage('say')
  @RateLimit({ limit: 2, window: '1h' })
  say() {
    return { event: 'said', data: 'ok' };
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

/** Sends `count` messages on one connection and collects one reply per message. */
async function converse(url: string, count: number, event = 'say'): Promise<unknown[]> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const replies: unknown[] = [];
  const done = new Promise<void>((resolve) =>
    socket.on('message', (raw) => {
      replies.push(JSON.parse(String(raw)));
      if (replies.length === count) resolve();
    }),
  );
  for (let i = 0; i < count; i++) socket.send(JSON.stringify({ event, data: i }));
  await done;
  socket.close();
  return replies;
}

describe('a WebSocket gateway', () => {
  it('is limited per client address and denied with a WsException carrying the 429 body', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ redis: redis.url, timeout: 5_000 })],
      providers: [ChatGateway],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useWebSocketAdapter(new WsAdapter(app));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const replies = await converse(`ws://127.0.0.1:${port}`, 3);
      expect(replies).toEqual([
        { event: 'said', data: 'ok' },
        { event: 'said', data: 'ok' },
        { event: 'exception', data: { statusCode: 429, message: 'Too Many Requests', policy: 'default', retryAfter: expect.any(Number) } },
      ]);
      // A failing tracker never admits, and tells the client nothing of its cause.
      const broken = await converse(`ws://127.0.0.1:${port}`, 3, 'broken');
      expect(broken).toEqual(Array(3).fill({ event: 'exception', data: { status: 'error', message: 'Internal server error' } }));
    } finally {
      await app.close();
    }
  });

  it('refuses to start when globalGuard is false and no RateLimitGuard is bound to a @RateLimit handler', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RateLimitModule.forRoot({ redis: redis.url, globalGuard: false })],
      providers: [UnguardedGateway],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useWebSocketAdapter(new WsAdapter(app));
    app.useLogger(false);
    const error = await app.init().then(() => undefined, (e: unknown) => e);
    await app.close().catch(() => undefined);
    expect(error).toBeInstanceOf(RateLimitConfigError);
    expect((error as Error).message).toContain('UnguardedGateway.say');
  });
});
