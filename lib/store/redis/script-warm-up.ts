import { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { DECIDE_SCRIPT } from '../../generated/decide-script.js';
import { DECIDE_SHA } from './decide-sha.js';

type RedisClient = Redis | Cluster;

/**
 * The warm-up of an ioredis client. Keeps a ready connection, with the `decide` script loaded, to every node that decides: the
 * client itself, or every master of a Cluster. Without it the first decisions after a start, a
 * reconnect or a failover are slow enough to miss `timeout` and follow failMode: ioredis
 * connects a Cluster's nodes lazily, and while a node connects it refuses further commands
 * and retries them after `retryDelayOnFailover` (100 ms); and the script's first run compiles it.
 *
 * Loading is triggered by events (the client or a node becoming ready, a Cluster refreshing its
 * slots or adding a node), never by a timer, and only while the client is ready: nothing is
 * queued for a disconnected client. A SCRIPT FLUSH needs no help: ioredis answers NOSCRIPT by
 * sending that call as EVAL, which loads the script again for every later call.
 */
export class ScriptWarmUp {
  /** The SCRIPT LOAD of each node's current connection: true once loaded. */
  private readonly loads = new Map<Redis, Promise<boolean>>();
  /** Removes the listeners put on each node. */
  private readonly unwatch = new Map<Redis, () => void>();
  private readonly log = new Logger('RateLimit');
  private active = false;
  /**
   * Deferred: a node that ioredis has just added for a command (after a MOVED) is then connected
   * by that command, which waits in the node's queue; connected by us first, it would find the
   * node connecting, and ioredis would retry it only after `retryDelayOnFailover`.
   */
  private readonly warmAll = () => void setImmediate(() => void this.warm());

  constructor(private readonly client: RedisClient) {}

  /** Loads the script from now on whenever a connection that decides becomes ready. */
  start(): void {
    this.active = true;
    this.client.on('ready', this.warmAll);
    if (this.client.isCluster) {
      // A new master, a replica promoted or a node reconnected: the slots are refreshed, or a node is added.
      this.client.on('refresh', this.warmAll);
      this.client.on('+node', this.warmAll);
    }
  }

  stop(): void {
    this.active = false;
    this.client.off('ready', this.warmAll);
    this.client.off('refresh', this.warmAll);
    this.client.off('+node', this.warmAll);
    for (const off of this.unwatch.values()) off();
    this.unwatch.clear();
    this.loads.clear();
  }

  /** Waits up to `ms` for the client to be ready, then (within the same `ms`) for `warm()`. */
  async untilWarm(ms: number): Promise<'warm' | 'cold' | 'not ready'> {
    const deadline = performance.now() + ms;
    if (this.client.status !== 'ready' && !(await emittedWithin(this.client, 'ready', ms))) return 'not ready';
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, deadline - performance.now(), false)));
    const warm = await Promise.race([this.warm(), expired]);
    clearTimeout(timer);
    return warm ? 'warm' : 'cold';
  }

  /** Connects and loads wherever that is not done yet; resolves true when every node is ready with the script. */
  warm(): Promise<boolean> {
    if (!this.active || this.client.status !== 'ready') return Promise.resolve(false);
    const nodes = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    return Promise.all(nodes.map((node) => this.loaded(node))).then((done) => done.every(Boolean));
  }

  private loaded(node: Redis): Promise<boolean> {
    let load = this.loads.get(node);
    if (load) return load;
    this.watch(node);
    // A lazy Cluster node connects for this command (its offline queue is on) and answers once ready.
    load = (node.script('LOAD', DECIDE_SCRIPT) as Promise<string>).then(
      (sha) => {
        if (sha === DECIDE_SHA) return true;
        this.log.error(`Redis hashes the decide script as ${sha}, ioredis as ${DECIDE_SHA}: every decision pays a full EVAL`);
        return false;
      },
      () => {
        // Retried at the next event (the connection ready again, a slots refresh).
        if (this.loads.get(node) === load) this.loads.delete(node);
        return false;
      },
    );
    this.loads.set(node, load);
    return load;
  }

  /** A closed connection forgets its load; ready again, it loads again (a restarted Redis has an empty cache). */
  private watch(node: Redis): void {
    if (this.unwatch.has(node)) return;
    // The client's own 'ready' is watched by start(); a Cluster node's (it reconnects when given a
    // `clusterNodeRetryStrategy`, maybe in another role) warms whatever the masters are now.
    const onReady = node === this.client ? undefined : this.warmAll;
    const onClose = () => this.loads.delete(node);
    const onEnd = () => {
      off();
      this.unwatch.delete(node);
      this.loads.delete(node);
    };
    const off = () => {
      node.off('close', onClose);
      node.off('end', onEnd);
      if (onReady) node.off('ready', onReady);
    };
    node.on('close', onClose);
    node.once('end', onEnd);
    if (onReady) node.on('ready', onReady);
    this.unwatch.set(node, off);
  }
}

/** Whether `emitter` emits `event` within `ms`; the listener does not outlive the wait. */
function emittedWithin(emitter: RedisClient, event: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onEvent = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      resolve(false);
    }, ms);
    emitter.once(event, onEvent);
  });
}
