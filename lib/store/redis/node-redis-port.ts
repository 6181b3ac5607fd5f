import { Logger } from '@nestjs/common';
import { DECIDE_SCRIPT } from '../../generated/decide-script.js';
import { DECIDE_SHA } from './decide-sha.js';
import { keySlot } from './key-slot.js';
import {
  isNodeRedisCluster,
  isNodeRedisSentinel,
  type NodeRedisClient,
  type NodeRedisConnection,
} from './node-redis-shapes.js';
import type { RedisPort } from './redis-port.js';

/** Why a call was refused before it was sent. */
class NotReadyError extends Error {}

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith('NOSCRIPT');

/**
 * The port on a node-redis client: `createClient()`, `createCluster()` or `createSentinel()`.
 * The app owns the client; its options are left as they are. Whatever its offline queue, no
 * call waits in it: a call goes out only on a ready connection (refused at once otherwise), and
 * a call still unwritten when that connection drops is aborted rather than sent after the
 * reconnect, where it would charge a budget for a request answered long ago.
 */
export class NodeRedisPort implements RedisPort {
  readonly mode: RedisPort['mode'];
  /** Aborts the calls not yet written on a connection when it drops; a new one per connected spell. */
  private readonly aborts = new Map<NodeRedisConnection, AbortController>();
  /** The SCRIPT LOAD of each connection's current spell: true once loaded. */
  private readonly loads = new Map<NodeRedisConnection, Promise<boolean>>();
  private readonly unwatch = new Map<NodeRedisConnection, () => void>();
  /** A Sentinel's current master connection, once known. */
  private master: NodeRedisConnection | undefined;
  private masterLookup: Promise<NodeRedisConnection> | undefined;
  private warming = false;
  private readonly log = new Logger('RateLimit');
  /** Deferred: a connection created by the event has not started connecting yet. */
  private readonly warmAll = () => void setImmediate(() => void this.warm());

  constructor(readonly client: NodeRedisClient) {
    this.mode = isNodeRedisCluster(client) ? 'cluster' : isNodeRedisSentinel(client) ? 'sentinel' : 'standalone';
  }

  isReady(): boolean {
    // A Sentinel's master connection is known once the warm-up has asked for it (and again after a failover).
    return this.open() && (!isNodeRedisSentinel(this.client) || this.master?.isReady === true);
  }

  status(): string {
    if (this.isReady()) return 'ready';
    return this.client.isOpen ? 'reconnecting' : 'closed';
  }

  connect(): void {
    // A client the app created and never connected; node-redis reconnects it from then on.
    if (!this.client.isOpen) this.client.connect().catch(() => undefined);
  }

  decide(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<number[]> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    return this.send(keys[0], ['EVALSHA', DECIDE_SHA, ...tail]).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      // Sent as EVAL, the script is cached again for every later call.
      return this.send(keys[0], ['EVAL', DECIDE_SCRIPT, ...tail]);
    }) as Promise<number[]>;
  }

  del(key: string): Promise<unknown> {
    return this.send(key, ['DEL', key]);
  }

  ping(): Promise<unknown> {
    return this.send(undefined, ['PING']);
  }

  info(): Promise<string> {
    return this.send(undefined, ['INFO', 'server']).then(String);
  }

  /** Sends on the connection that owns `key`, if it is ready; refused at once otherwise. */
  private send(key: string | undefined, args: string[]): Promise<unknown> {
    const client = this.client;
    const connection = this.connectionFor(key);
    if (!connection?.isReady) return Promise.reject(new NotReadyError(`Redis connection is ${this.status()}`));
    const options = { abortSignal: this.abortFor(connection)?.signal };
    if (isNodeRedisCluster(client)) return client.sendCommand(key, false, args, options);
    if (isNodeRedisSentinel(client)) return client.sendCommand(false, args, options);
    return client.sendCommand(args, options);
  }

  private connectionFor(key: string | undefined): NodeRedisConnection | undefined {
    const client = this.client;
    if (isNodeRedisSentinel(client)) return client.isReady ? this.master : undefined;
    if (!isNodeRedisCluster(client)) return client;
    if (!client.isOpen) return undefined;
    const node = key === undefined ? client.masters[0] : client.slots[keySlot(key)]?.master;
    // A master not connected yet (`minimizeConnections`): connected now, for the calls after this one.
    if (node && !node.client) client.nodeClient(node).catch(() => undefined);
    return node?.client;
  }

  /** The connection's abort, while the port follows the client (between startWarmUp and stopWarmUp). */
  private abortFor(connection: NodeRedisConnection): AbortController | undefined {
    if (!this.warming) return undefined;
    let abort = this.aborts.get(connection);
    if (!abort) {
      this.watch(connection);
      abort = new AbortController();
      this.aborts.set(connection, abort);
    }
    return abort;
  }

  startWarmUp(): void {
    this.warming = true;
    const client = this.client;
    if (isNodeRedisCluster(client)) {
      // A node connection created (a start, a new master after a MOVED): its masters are loaded.
      client.on('node-ready', this.warmAll);
      client.on('connect', this.warmAll);
    } else if (isNodeRedisSentinel(client)) {
      // A new master after a failover: its connection is new.
      client.on('topology-change', this.warmAll);
    } else {
      client.on('ready', this.warmAll);
    }
  }

  stopWarmUp(): void {
    this.warming = false;
    for (const event of ['node-ready', 'connect', 'topology-change', 'ready']) this.client.off(event, this.warmAll);
    for (const off of this.unwatch.values()) off();
    this.unwatch.clear();
    this.loads.clear();
    this.aborts.clear();
  }

  async untilWarm(ms: number): Promise<'warm' | 'cold' | 'not ready'> {
    const deadline = performance.now() + ms;
    // A node-redis Cluster or Sentinel has no single 'ready' event: polled, briefly.
    while (!this.open()) {
      if (performance.now() >= deadline) return 'not ready';
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, deadline - performance.now(), false)));
    const warm = await Promise.race([this.warm(), expired]);
    clearTimeout(timer);
    return warm ? 'warm' : 'cold';
  }

  /** Open and knowing where to send: connected, the slots known, the master found by the sentinels. */
  private open(): boolean {
    const client = this.client;
    if (isNodeRedisCluster(client)) return client.isOpen && client.masters.length > 0;
    return client.isReady;
  }

  /** Loads the script wherever that is not done yet; true when every connection that decides has it. */
  private async warm(): Promise<boolean> {
    if (!this.warming) return false;
    const connections = await this.deciding().catch(() => []);
    if (connections.length === 0) return false;
    const done = await Promise.all(connections.map((connection) => this.loaded(connection)));
    return done.every(Boolean);
  }

  /** The connections that decide: the client itself, every master of a Cluster, or the Sentinel's master. */
  private async deciding(): Promise<NodeRedisConnection[]> {
    const client = this.client;
    if (!client.isOpen) return [];
    if (isNodeRedisCluster(client)) return Promise.all(client.masters.map((node) => client.nodeClient(node)));
    if (isNodeRedisSentinel(client)) {
      if (!client.isReady) return [];
      // The master's connection, as node-redis hands it to a command (once there is one); watched from now on.
      this.masterLookup ??= client._execute(false, (connection) => Promise.resolve(connection)).finally(() => (this.masterLookup = undefined));
      this.master = await this.masterLookup;
      return [this.master];
    }
    return [client];
  }

  private loaded(connection: NodeRedisConnection): Promise<boolean> {
    let load = this.loads.get(connection);
    if (load) return load;
    this.watch(connection);
    if (!connection.isReady) return Promise.resolve(false); // loaded on its 'ready'
    load = connection.sendCommand(['SCRIPT', 'LOAD', DECIDE_SCRIPT]).then(
      (sha) => {
        if (sha === DECIDE_SHA) return true;
        this.log.error(`Redis hashes the decide script as ${String(sha)}, the module as ${DECIDE_SHA}: every decision pays a full EVAL`);
        return false;
      },
      () => {
        // Retried at the next event (the connection ready again, a new node or master).
        if (this.loads.get(connection) === load) this.loads.delete(connection);
        return false;
      },
    );
    this.loads.set(connection, load);
    return load;
  }

  /**
   * Follows a connection's spells: when it drops, its unwritten calls are aborted and its load
   * forgotten (a restarted Redis has an empty script cache); ready again, it loads again.
   */
  private watch(connection: NodeRedisConnection): void {
    if (this.unwatch.has(connection)) return;
    const onDrop = () => {
      this.aborts.get(connection)?.abort();
      this.aborts.delete(connection);
      this.loads.delete(connection);
    };
    const onEnd = () => {
      onDrop();
      off();
      this.unwatch.delete(connection);
      if (this.master === connection) this.master = undefined;
    };
    const onReady = () => {
      if (this.warming) this.warmAll();
    };
    const off = () => {
      connection.off('reconnecting', onDrop);
      connection.off('end', onEnd);
      connection.off('ready', onReady);
    };
    connection.on('reconnecting', onDrop);
    connection.on('end', onEnd);
    // The client's own 'ready' is followed by startWarmUp().
    if (connection !== this.client) connection.on('ready', onReady);
    this.unwatch.set(connection, off);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
