import { describe, expect, it } from '@jest/globals';
import { assertRedisVersion, checkRedisVersion, MIN_REDIS_VERSION, redisVersionOf } from '../../lib/store/redis/server-version.js';
import { RedisServer } from '../support/redis-server.js';

const info = (version: string) => `# Server\r\nredis_version:${version}\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\n`;

describe('Redis server version', () => {
  it('reads redis_version from INFO server', () => {
    expect(redisVersionOf(info('7.0.15'))).toBe('7.0.15');
    expect(redisVersionOf('# Server\r\nredis_mode:standalone\r\n')).toBeUndefined();
  });

  it('accepts 7.0 and later', () => {
    for (const version of ['7.0.0', '7.0.15', '7.2.4', '8.0.1', '10.0']) expect(() => checkRedisVersion(info(version))).not.toThrow();
  });

  it('refuses an older server, naming the version needed and the one found', () => {
    for (const version of ['6.2.14', '6.0.0', '5.0.7']) {
      expect(() => checkRedisVersion(info(version))).toThrow(`needs Redis >= ${MIN_REDIS_VERSION}`);
      expect(() => checkRedisVersion(info(version))).toThrow(`runs Redis ${version}`);
    }
  });

  it('does not judge a server that refuses INFO', async () => {
    await expect(assertRedisVersion(() => Promise.reject(new Error('ERR unknown command')))).resolves.toBeUndefined();
    await expect(assertRedisVersion(() => Promise.resolve(info('6.2.0')))).rejects.toThrow('needs Redis >= 7.0');
  });

  it('passes the test servers', async () => {
    const server = await RedisServer.start();
    const client = server.client();
    try {
      const text = await client.info('server');
      expect(redisVersionOf(text)).toMatch(/^\d+\.\d+/);
      await expect(assertRedisVersion(() => client.info('server'))).resolves.toBeUndefined();
    } finally {
      await client.quit();
      await server.destroy();
    }
  });
});
