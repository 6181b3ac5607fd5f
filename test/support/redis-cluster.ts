import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-server.js';

async function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

async function info(port: number, section: string): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return section === 'cluster' ? ((await client.cluster('INFO')) as string) : await client.info(section);
  } finally {
    client.disconnect();
  }
}

/**
 * A real Redis Cluster of `masters` masters (no replicas) on free loopback ports, created with
 * `redis-cli --cluster create`. Every node gets an explicit bus port (`--cluster-port`), since
 * port + 10000 may be taken or out of range.
 */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        const busPort = await freePort();
        nodes.push(
          await RedisServer.start([
            '--cluster-enabled', 'yes',
            '--cluster-config-file', 'nodes.conf',
            '--cluster-port', String(busPort),
            '--cluster-node-timeout', '5000',
          ]),
        );
      }
      const cluster = new RedisCluster(nodes);
      await run(
        'redis-cli',
        ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
        30_000,
      );
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((n) => n.destroy()));
      throw error;
    }
  }

  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  /** Every node sees every slot assigned and agrees on the epoch. */
  private async waitUntilOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const states = await Promise.all(this.nodes.map((n) => info(n.port, 'cluster').catch(() => '')));
      if (states.every((s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s) && new RegExp(`cluster_known_nodes:${this.nodes.length}\\b`).test(s))) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('timed out waiting for the cluster to be ok');
  }

  /** A Cluster client for assertions; the caller quits it. */
  client(): Cluster {
    return new Cluster(this.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  }

  /** Sum of a counter from `INFO errorstats` (for example `CROSSSLOT`) over all nodes. */
  async errorCount(error: string): Promise<number> {
    let total = 0;
    for (const node of this.nodes) {
      const match = new RegExp(`errorstat_${error}:count=(\\d+)`).exec(await info(node.port, 'errorstats'));
      if (match) total += Number(match[1]);
    }
    return total;
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
