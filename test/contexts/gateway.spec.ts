import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UseGuards } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
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

  /** Only failed guesses count: an even number is a wrong guess. */
  @SubscribeMessage('guess')
  @RateLimit({ name: 'guess', limit: 2, window: '1h', refund: 'on-success' })
  guess(@MessageBody() n: number) {
    if (n % 2 === 0) throw new WsException('wrong');
    return { event: 'right', data: n };
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

/** Sends each message on one connection after the reply to the one before, and collects the replies. */
async function oneByOne(url: string, event: string, messages: unknown[]): Promise<unknown[]> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const replies: unknown[] = [];
  for (const data of messages) {
    const reply = new Promise((resolve) => socket.once('message', (raw) => resolve(JSON.parse(String(raw)))));
    socket.send(JSON.stringify({ event, data }));
    replies.push(await reply);
  }
  socket.close();
  return replies;
}

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
      // refund 'on-success': the right guesses are given back when the handler completes.
      const guesses = await oneByOne(`ws://127.0.0.1:${port}`, 'guess', [1, 3, 5, 2, 7, 4, 9]);
      const wrong = { event: 'exception', data: expect.objectContaining({ status: 'error', message: 'wrong' }) };
      expect(guesses.slice(0, 6)).toEqual([{ event: 'right', data: 1 }, { event: 'right', data: 3 }, { event: 'right', data: 5 }, wrong, { event: 'right', data: 7 }, wrong]);
      expect(guesses[6]).toEqual({ event: 'exception', data: expect.objectContaining({ statusCode: 429, policy: 'guess' }) });
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
