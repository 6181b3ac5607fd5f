import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DECIDE_SCRIPT, DECIDE_SCRIPT_VERSION } from '../../generated/decide-script.js';
import type { RateLimitObserver } from '../../metrics/rate-limit-observer.js';
import type { RateLimitStore, StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';
import { FailureLog } from '../../support/failure-log.js';
import { DecisionBatch } from './decision-batch.js';
import { decideInSlotGroups, slotTag } from './decide-in-slot-groups.js';
import type { RedisClient } from './redis-connection.js';
import { ScriptWarmUp } from './script-warm-up.js';
import { assertRedisVersion } from './server-version.js';

type DecideCommand = (...keysThenArgs: Array<string | number>) => Promise<number[]>;

/** A batch is sent at once when it holds this many keys; it keeps one script run short. */
const MAX_BATCH_KEYS = 32;

/**
 * Decides through the `decide` Lua script. ioredis routes a defined command by its fixed key
 * count, so one command is registered per key count, under a name stamped with the script's
 * version so that other libraries' (or other versions') commands on a shared client are untouched.
 *
 * The decisions asked for in one turn of the event loop are sent together, one script call per
 * batch (per Cluster slot): the socket writes, the reads and Redis's command dispatch are then
 * paid once per batch rather than once per decision. Each request is still decided atomically,
 * in the order asked, as with a call of its own; it waits at most until the loop's check phase.
 */
export class RedisRateLimitStore implements RateLimitStore, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly commands: DecideCommand[] = [];
  /** Batches being filled, by Cluster slot tag ('' outside a Cluster). */
  private pending = new Map<string, DecisionBatch>();
  private readonly warmUp: ScriptWarmUp;
  /** Hears the duration of each script call (one per batch). */
  observer: Pick<RateLimitObserver, 'storeCall'> | undefined;

  constructor(
    readonly client: RedisClient,
    private readonly owned = false,
    private readonly connectTimeoutMs = 5_000,
  ) {
    this.warmUp = new ScriptWarmUp(client);
    // ioredis reconnects by itself; its errors are reported here, once per outage, not thrown.
    if (owned) {
      const log = new FailureLog(new Logger('RateLimit'));
      client.on('error', (error: Error) => log.failed(`Redis connection error: ${error.message}`));
      client.on('ready', () => log.recovered('Redis connection restored'));
    }
  }

  /**
   * Waits up to `connectTimeoutMs` for Redis to be ready, with a connection to every node that
   * decides and the script loaded on each, then lets the app start anyway (failMode applies
   * until Redis is ready; the script is loaded then).
   */
  async onApplicationBootstrap(): Promise<void> {
    // A client created with `lazyConnect` waits for its first command, which the engine never
    // sends while the client is not ready: connect it (ioredis reconnects it from then on).
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    this.warmUp.start();
    const state = await this.warmUp.untilWarm(this.connectTimeoutMs);
    if (state === 'not ready') {
      new Logger('RateLimit').warn(`Redis is not ready after ${this.connectTimeoutMs} ms; decisions follow failMode until it is`);
      return;
    }
    await assertRedisVersion(() => this.client.info('server'));
    if (state === 'cold') {
      new Logger('RateLimit').warn(`Redis nodes are not all connected with the script loaded after ${this.connectTimeoutMs} ms; the first decisions may miss the timeout`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.warmUp.stop();
    // Decisions and releases still waiting for this turn's batch go out before the client quits.
    this.flush();
    if (!this.owned) return;
    // QUIT lets replies in flight arrive; disconnect() then closes what QUIT leaves open: in
    // ioredis 6 the Sentinel failover detector's subscriber connections (and their reconnect
    // timers) survive quit() and would keep the process alive.
    await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  decide(calls: readonly StoreCall[]): Promise<StoreVerdict> {
    return this.decideAt(calls, 0);
  }

  /** `decide` on a clock of the caller's (µs; 0: Redis TIME), for tests; never batched with other requests. */
  decideAt(calls: readonly StoreCall[], nowUs: number): Promise<StoreVerdict> {
    if (this.client.isCluster && calls.length > 1) {
      return decideInSlotGroups(calls, (group) => this.decideInOneSlot(group, nowUs));
    }
    return this.decideInOneSlot(calls, nowUs);
  }

  private decideInOneSlot(calls: readonly StoreCall[], nowUs: number): Promise<StoreVerdict> {
    if (nowUs !== 0) {
      const batch = new DecisionBatch(nowUs);
      const verdict = batch.add(calls);
      this.send(batch);
      return verdict;
    }
    const slot = this.client.isCluster ? slotTag(calls[0].key) : '';
    let batch = this.pending.get(slot);
    if (!batch) {
      if (this.pending.size === 0) setImmediate(this.flush);
      batch = new DecisionBatch(0);
      this.pending.set(slot, batch);
    }
    const verdict = batch.add(calls);
    if (batch.keys.length >= MAX_BATCH_KEYS) {
      this.pending.delete(slot);
      this.send(batch);
    }
    return verdict;
  }

  private readonly flush = (): void => {
    const batches = this.pending;
    if (batches.size === 0) return;
    this.pending = new Map();
    for (const batch of batches.values()) this.send(batch);
  };

  private send(batch: DecisionBatch): void {
    const observer = this.observer;
    const sentAt = observer ? performance.now() : 0;
    this.command(batch.keys.length)(...batch.keys, ...batch.args).then(
      (reply) => {
        observer?.storeCall((performance.now() - sentAt) / 1000);
        batch.settle(reply);
      },
      (error: unknown) => {
        observer?.storeCall((performance.now() - sentAt) / 1000);
        batch.fail(error);
      },
    );
  }

  async reset(keys: readonly string[]): Promise<void> {
    // One DEL per key: on a Cluster, keys of different trackers live in different slots.
    await Promise.all(keys.map((key) => this.client.del(key)));
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
