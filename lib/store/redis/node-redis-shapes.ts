/**
 * The parts of node-redis (`redis` v5+) clients the module uses, as shapes: node-redis is an
 * optional peer, so its types are not imported, and any copy of it is recognised.
 */

export interface NodeRedisCommandOptions {
  abortSignal?: AbortSignal;
}

interface Listening {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** One connection to one Redis: a `createClient()` client, or a node of a Cluster or Sentinel. */
export interface NodeRedisConnection extends Listening {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  sendCommand(args: string[], options?: NodeRedisCommandOptions): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

interface NodeRedisClusterNode {
  client?: NodeRedisConnection;
}

/** A `createCluster()` client. */
export interface NodeRedisCluster extends Listening {
  readonly isOpen: boolean;
  readonly masters: NodeRedisClusterNode[];
  readonly slots: Array<{ master: NodeRedisClusterNode } | undefined>;
  nodeClient(node: NodeRedisClusterNode): Promise<NodeRedisConnection>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[], options?: NodeRedisCommandOptions): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

/** A `createSentinel()` client. */
export interface NodeRedisSentinel extends Listening {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** Runs `fn` on the master's connection (waiting, if need be, until there is one). */
  _execute<T>(isReadonly: boolean | undefined, fn: (client: NodeRedisConnection) => Promise<T>): Promise<T>;
  sendCommand(isReadonly: boolean | undefined, args: string[], options?: NodeRedisCommandOptions): Promise<unknown>;
  getMasterNode(): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

export type NodeRedisClient = NodeRedisConnection | NodeRedisCluster | NodeRedisSentinel;

const has = (value: object, ...functions: string[]) => functions.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

export const isNodeRedisSentinel = (value: object): value is NodeRedisSentinel => has(value, 'getMasterNode', '_execute', 'sendCommand', 'connect');

export const isNodeRedisCluster = (value: object): value is NodeRedisCluster =>
  has(value, 'nodeClient', 'sendCommand', 'connect') && Array.isArray((value as NodeRedisCluster).masters);

/** A node-redis client of one of the three kinds; ioredis clients have none of these shapes (they have a string `status`). */
export function isNodeRedisClient(value: unknown): value is NodeRedisClient {
  if (typeof value !== 'object' || value === null) return false;
  if (isNodeRedisSentinel(value) || isNodeRedisCluster(value)) return true;
  const connection = value as Partial<NodeRedisConnection>;
  return has(value, 'sendCommand', 'connect', 'duplicate') && typeof connection.isReady === 'boolean' && typeof connection.isOpen === 'boolean';
}
