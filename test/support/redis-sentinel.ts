import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, ping, RedisServer } from './redis-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A short-lived connection for one question. */
async function ask<T>(port: number, question: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await question(client);
  } finally {
    client.disconnect();
  }
}

/**
 * A master, one replica and one sentinel (quorum 1), all real processes on free loopback ports.
 * The sentinel marks the master down after 1 s without an answer and then fails over.
 */
export class RedisSentinelSet {
  private sentinelProcess: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'rl-sentinel-'));

  private constructor(
    readonly name: string,
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinelPort: number,
  ) {}

  static async start(name = 'rlmaster'): Promise<RedisSentinelSet> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const set = new RedisSentinelSet(name, master, replica, await freePort());
    try {
      await waitFor(async () => /master_link_status:up/.test(await ask(replica.port, (c) => c.info('replication'))), 'the replica to sync', 15_000);
      await set.startSentinel();
      // The sentinel must know the replica before the master dies, or it has nothing to promote.
      await waitFor(async () => {
        const replicas = (await ask(set.sentinelPort, (c) => c.call('SENTINEL', 'REPLICAS', name))) as string[][];
        return replicas.some((fields) => {
          const info = Object.fromEntries(fields.flatMap((v, i) => (i % 2 ? [] : [[v, fields[i + 1]]])));
          return info.port === String(replica.port) && info.flags === 'slave' && info['master-link-status'] === 'ok';
        });
      }, 'the sentinel to discover the replica', 20_000);
      return set;
    } catch (error) {
      await set.destroy();
      throw error;
    }
  }

  get sentinels(): Array<{ host: string; port: number }> {
    return [{ host: '127.0.0.1', port: this.sentinelPort }];
  }

  private async startSentinel(): Promise<void> {
    const config = join(this.dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${this.sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${this.name} 127.0.0.1 ${this.master.port} 1`,
        `sentinel down-after-milliseconds ${this.name} 1000`,
        `sentinel failover-timeout ${this.name} 10000`,
        `sentinel parallel-syncs ${this.name} 1`,
        '',
      ].join('\n'),
    );
    this.sentinelProcess = spawn('redis-sentinel', [config], { stdio: 'ignore' });
    await waitFor(() => ping(this.sentinelPort), `redis-sentinel on port ${this.sentinelPort}`, 10_000);
  }

  /** The master's port as the sentinel reports it now. */
  async masterPort(): Promise<number> {
    const [, port] = (await ask(this.sentinelPort, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name))) as [string, string];
    return Number(port);
  }

  /** Waits until the sentinel has promoted the replica and the replica acts as master. */
  async waitForPromotion(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => (await this.masterPort()) === this.replica.port && /role:master/.test(await ask(this.replica.port, (c) => c.info('replication'))),
      'the sentinel to promote the replica',
      timeoutMs,
    );
  }

  async destroy(): Promise<void> {
    const child = this.sentinelProcess;
    this.sentinelProcess = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await Promise.all([this.master.destroy(), this.replica.destroy()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
