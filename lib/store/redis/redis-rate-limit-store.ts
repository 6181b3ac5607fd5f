import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RateLimitObserver } from '../../metrics/rate-limit-observer.js';
import type { RateLimitStore, StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';
import { DecisionBatch } from './decision-batch.js';
import { decideInSlotGroups, slotTag } from './decide-in-slot-groups.js';
import { portOf, type RedisClient } from './redis-connection.js';
import type { RedisPort } from './redis-port.js';
import { assertRedisVersion } from './server-version.js';

/** A batch is sent at once when it holds this many keys; it keeps one script run short. */
const MAX_BATCH_KEYS = 32;

/**
 * Decides through the `decide` Lua script, on any client the port drives (ioredis or node-redis).
 *
 * The decisions asked for in one turn of the event loop are sent together, one script call per
 * batch (per Cluster slot): the socket writes, the reads and Redis's command dispatch are then
 * paid once per batch rather than once per decision. Each request is still decided atomically,
 * in the order asked, as with a call of its own; it waits at most until the loop's check phase.
 */
export class RedisRateLimitStore implements RateLimitStore, OnApplicationBootstrap, OnApplicationShutdown {
  /** Batches being filled, by Cluster slot tag ('' outside a Cluster). */
  private pending = new Map<string, DecisionBatch>();
  /** The client, through the one port every client library is driven by. */
  readonly redis: RedisPort;
  private readonly isCluster: boolean;
  /** Hears the duration of each script call (one per batch). */
  observer: Pick<RateLimitObserver, 'storeCall'> | undefined;

  /** `owned`: the module created the client (it reports its connection errors, and closes it at shutdown). */
  constructor(
    client: RedisClient,
    private readonly owned = false,
    private readonly connectTimeoutMs = 5_000,
  ) {
    this.redis = portOf(client, owned);
    this.isCluster = this.redis.mode === 'cluster';
  }

  /**
   * Waits up to `connectTimeoutMs` for Redis to be ready, with a connection to every node that
   * decides and the script loaded on each, then lets the app start anyway (failMode applies
   * until Redis is ready; the script is loaded then).
   */
  async onApplicationBootstrap(): Promise<void> {
    // A client created with `lazyConnect` (or a node-redis client not connected yet) waits for a
    // first command, which the engine never sends while the client is not ready: connect it.
    this.redis.connect();
    this.redis.startWarmUp();
    const state = await this.redis.untilWarm(this.connectTimeoutMs);
    if (state === 'not ready') {
      new Logger('RateLimit').warn(`Redis is not ready after ${this.connectTimeoutMs} ms; decisions follow failMode until it is`);
      return;
    }
    await assertRedisVersion(() => this.redis.info());
    if (state === 'cold') {
      new Logger('RateLimit').warn(`Redis nodes are not all connected with the script loaded after ${this.connectTimeoutMs} ms; the first decisions may miss the timeout`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.stopWarmUp();
    // Decisions and releases still waiting for this turn's batch go out before the client quits.
    this.flush();
    if (this.owned) await this.redis.close();
  }

  isReady(): boolean {
    return this.redis.isReady();
  }

  decide(calls: readonly StoreCall[]): Promise<StoreVerdict> {
    return this.decideAt(calls, 0);
  }

  /** `decide` on a clock of the caller's (µs; 0: Redis TIME), for tests; never batched with other requests. */
  decideAt(calls: readonly StoreCall[], nowUs: number): Promise<StoreVerdict> {
    if (this.isCluster && calls.length > 1) {
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
    const slot = this.isCluster ? slotTag(calls[0].key) : '';
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
    this.redis.decide(batch.keys, batch.args).then(
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
    await Promise.all(keys.map((key) => this.redis.del(key)));
  }
}
