import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { DECIDE_SCRIPT, DECIDE_SCRIPT_VERSION } from '../../generated/decide-script.js';
import { FailureLog } from '../../support/failure-log.js';
import type { RedisPort } from './redis-port.js';
import { ScriptWarmUp } from './script-warm-up.js';

export type IoredisClient = Redis | Cluster;

type DecideCommand = (...keysThenArgs: Array<string | number>) => Promise<number[]>;

/**
 * The port on an ioredis client (`Redis`, `Cluster`, or one with its interface such as iovalkey).
 * ioredis routes a defined command by its fixed key count, so one command is registered per key
 * count, under a name stamped with the script's version so that other libraries' (or other
 * versions') commands on a shared client are untouched. A defined command sends EVALSHA and
 * answers NOSCRIPT by sending that call as EVAL.
 */
export class IoredisPort implements RedisPort {
  readonly mode: RedisPort['mode'];
  private readonly commands: DecideCommand[] = [];
  private readonly warmUp: ScriptWarmUp;

  constructor(
    readonly client: IoredisClient,
    owned: boolean,
  ) {
    this.mode = client.isCluster ? 'cluster' : (client as Redis).options?.sentinels?.length ? 'sentinel' : 'standalone';
    this.warmUp = new ScriptWarmUp(client);
    // ioredis reconnects by itself; the errors of a client the module created are reported here,
    // once per outage, not thrown (a client the app passed is the app's to watch).
    if (owned) {
      const log = new FailureLog(new Logger('RateLimit'));
      client.on('error', (error: Error) => log.failed(`Redis connection error: ${error.message}`));
      client.on('ready', () => log.recovered('Redis connection restored'));
    }
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  status(): string {
    return this.client.status;
  }

  connect(): void {
    // `lazyConnect`: ioredis reconnects it from then on.
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
  }

  decide(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<number[]> {
    // ioredis's own offline queue is never reached: the engine sends nothing while the client is
    // not ready, and the clients the module creates have it off.
    return this.command(keys.length)(...keys, ...args);
  }

  del(key: string): Promise<unknown> {
    return this.client.del(key);
  }

  ping(): Promise<unknown> {
    return this.client.ping();
  }

  info(): Promise<string> {
    return this.client.info('server');
  }

  startWarmUp(): void {
    this.warmUp.start();
  }

  stopWarmUp(): void {
    this.warmUp.stop();
  }

  untilWarm(ms: number): Promise<'warm' | 'cold' | 'not ready'> {
    return this.warmUp.untilWarm(ms);
  }

  async close(): Promise<void> {
    // QUIT lets replies in flight arrive; disconnect() then closes what QUIT leaves open: in
    // ioredis 6 the Sentinel failover detector's subscriber connections (and their reconnect
    // timers) survive quit() and would keep the process alive.
    await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  private command(numberOfKeys: number): DecideCommand {
    let command = this.commands[numberOfKeys];
    if (!command) {
      const name = `rl${DECIDE_SCRIPT_VERSION}k${numberOfKeys}`;
      const client = this.client as unknown as Record<string, DecideCommand | undefined>;
      if (!client[name]) this.client.defineCommand(name, { numberOfKeys, lua: DECIDE_SCRIPT });
      command = (client[name] as DecideCommand).bind(this.client);
      this.commands[numberOfKeys] = command;
    }
    return command;
  }
}
