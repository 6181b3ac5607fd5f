import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { request as httpRequest } from 'node:http';
import { RateLimit, RateLimiterService, RateLimitModule, type RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { normalizeClientIp } from '../../lib/tracking/client-ip.js';
import { RedisServer } from '../support/redis-server.js';
import { DECISION_TIMEOUT } from '../support/http-suite.js';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../support/http-app.js';

/**
 * The default tracker: the client IP as the adapter sees it (its trust-proxy setting, never
 * X-Forwarded-For read by hand); IPv4-mapped / -compatible / NAT64 addresses count as their
 * IPv4; other IPv6 is masked to `ipv6Prefix` (default 64).
 */

const IP_POLICY: RateLimitPolicy = { bucket: 'by-ip', limit: 3, window: '1h' };

@Controller('ip')
class IpController {
  @Get()
  @RateLimit(IP_POLICY)
  limited() {
    return { ok: true };
  }
}

/** A GET on a fresh TCP connection (no keep-alive reuse), optionally with X-Forwarded-For. */
function freshGet(url: string, forwardedFor?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = forwardedFor ? { 'x-forwarded-for': forwardedFor } : {};
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Like startApp, with the adapter trusting X-Forwarded-For. */
async function startTrustingProxy(adapter: AdapterName, metadata: ModuleMetadata): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter({ trustProxy: true })) : moduleRef.createNestApplication();
  if (adapter === 'express') (app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): void }).set('trust proxy', true);
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(() => redis.destroy());

describe.each(ADAPTERS)('default tracker on %s', (adapter) => {
  describe('without a trusted proxy', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(adapter, { imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `ip-${adapter}`, timeout: DECISION_TIMEOUT })], controllers: [IpController] });
    });
    afterAll(() => app.close());

    it('requests from 127.0.0.1 share one budget across connections, whatever X-Forwarded-For says', async () => {
      const statuses = [];
      for (const xff of [undefined, '198.51.100.1', '198.51.100.2', '2001:db8::1']) statuses.push(await freshGet(`${app.url}/ip`, xff));
      expect(statuses).toEqual([200, 200, 200, 429]);
    });

    it("the budget is keyed by the IP itself: RateLimiterService sees it under '127.0.0.1'", async () => {
      const limiter = app.app.get(RateLimiterService);
      expect((await limiter.peek('127.0.0.1', IP_POLICY)).remaining).toBe(0);
      await limiter.reset('127.0.0.1', IP_POLICY);
      expect(await freshGet(`${app.url}/ip`)).toBe(200);
    });
  });

  describe('behind a trusted proxy', () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await startTrustingProxy(adapter, {
        imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `ipx-${adapter}`, timeout: DECISION_TIMEOUT })],
        controllers: [IpController],
      });
    });
    afterAll(() => app.app.close());

    const statusesFor = async (addresses: string[]) => {
      const statuses = [];
      for (const address of addresses) statuses.push(await freshGet(`${app.url}/ip`, address));
      return statuses;
    };

    it('honours the adapter: each forwarded client has its own budget', async () => {
      expect(await statusesFor(['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.1'])).toEqual([200, 200, 200, 429]);
      expect(await statusesFor(['203.0.113.2'])).toEqual([200]);
    });

    it('an IPv4-mapped and a NAT64 address count as their IPv4', async () => {
      expect(await statusesFor(['203.0.113.10', '::ffff:203.0.113.10', '64:ff9b::cb00:710a', '203.0.113.10'])).toEqual([200, 200, 200, 429]);
    });

    it('IPv6 addresses of one /64 share a budget; another /64 has its own', async () => {
      expect(await statusesFor(['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::3'])).toEqual([
        200, 200, 200, 429,
      ]);
      expect(await statusesFor(['2001:db8:1:3::1'])).toEqual([200]);
    });
  });

  describe('behind a trusted proxy with ipv6Prefix: 48', () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await startTrustingProxy(adapter, {
        imports: [RateLimitModule.forRoot({ redis: redis.url, keyPrefix: `ip48-${adapter}`, ipv6Prefix: 48, timeout: DECISION_TIMEOUT })],
        controllers: [IpController],
      });
    });
    afterAll(() => app.app.close());

    it('IPv6 addresses of one /48 share a budget', async () => {
      const statuses = [];
      for (const address of ['2001:db8:1:2::1', '2001:db8:1:3::1', '2001:db8:1:ffff::1', '2001:db8:1:4::1', '2001:db8:2::1']) {
        statuses.push(await freshGet(`${app.url}/ip`, address));
      }
      expect(statuses).toEqual([200, 200, 200, 429, 200]);
    });
  });
});

describe('normalizeClientIp', () => {
  it('keeps IPv4 as is', () => {
    expect(normalizeClientIp('203.0.113.7', 64)).toBe('203.0.113.7');
    expect(normalizeClientIp('127.0.0.1', 64)).toBe('127.0.0.1');
  });

  it.each([
    ['IPv4-mapped, dotted', '::ffff:203.0.113.7'],
    ['IPv4-mapped, hex', '::ffff:cb00:7107'],
    ['IPv4-mapped, expanded and upper case', '0:0:0:0:0:FFFF:CB00:7107'],
    ['IPv4-compatible, dotted', '::203.0.113.7'],
    ['IPv4-compatible, hex', '::cb00:7107'],
    ['NAT64, dotted', '64:ff9b::203.0.113.7'],
    ['NAT64, hex', '64:ff9b::cb00:7107'],
  ])('maps %s (%s) to its IPv4', (_kind, address) => {
    expect(normalizeClientIp(address, 64)).toBe('203.0.113.7');
  });

  it('masks other IPv6 to /64 by default: one key per /64', () => {
    const key = normalizeClientIp('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 64);
    expect(normalizeClientIp('2001:db8:1:2::1', 64)).toBe(key);
    expect(normalizeClientIp('2001:0DB8:0001:0002:0000:0000:0000:ffff', 64)).toBe(key);
    expect(normalizeClientIp('2001:db8:1:3::1', 64)).not.toBe(key);
    expect(key).not.toMatch(/aaaa|bbbb|cccc|dddd/);
  });

  it('masks to a custom ipv6Prefix', () => {
    expect(normalizeClientIp('2001:db8:1:2::1', 48)).toBe(normalizeClientIp('2001:db8:1:ffff::1', 48));
    expect(normalizeClientIp('2001:db8:1:2::1', 48)).not.toBe(normalizeClientIp('2001:db8:2:2::1', 48));
    // a prefix inside a group: /56 keeps the top 8 bits of the 4th group
    expect(normalizeClientIp('2001:db8:1:200::1', 56)).toBe(normalizeClientIp('2001:db8:1:2ff::1', 56));
    expect(normalizeClientIp('2001:db8:1:200::1', 56)).not.toBe(normalizeClientIp('2001:db8:1:300::1', 56));
    // /128: every address is its own client
    expect(normalizeClientIp('2001:db8::1', 128)).not.toBe(normalizeClientIp('2001:db8::2', 128));
  });

  it('drops a zone id before masking', () => {
    expect(normalizeClientIp('fe80::1%eth0', 64)).toBe(normalizeClientIp('fe80::2%eth1', 64));
  });

  it('does not treat ::1 (loopback) as an IPv4 address', () => {
    expect(normalizeClientIp('::1', 64)).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });
});
