import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';

/**
 * The client libraries an app may pass as `redis`: the suites that hold the module's guarantees
 * run once per library, on a client made here the way an app would make it.
 */
export const CLIENT_LIBRARIES = ['ioredis', 'node-redis'] as const;
export type ClientLibrary = (typeof CLIENT_LIBRARIES)[number];

/** A client of one library, connected, and how to close it (the module never does). */
export interface PassedClient {
  readonly client: object;
  close(): Promise<void>;
}

/** node-redis's default backs off to 2 s; a test waits for a restarted Redis no longer than ioredis's 1 s. */
const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1_000);

/** node-redis throws an 'error' event nobody listens to; an app always listens (here: the failures are the test's own doing). */
const quiet = <T extends { on(event: 'error', listener: () => void): unknown }>(client: T): T => {
  client.on('error', () => undefined);
  return client;
};

const closing = (close: () => unknown) => async () => {
  try {
    await close();
  } catch {
    // Already closed (a test may close it first).
  }
};

export async function standaloneClient(library: ClientLibrary, port: number): Promise<PassedClient> {
  if (library === 'ioredis') {
    const client = new Redis({ port, host: '127.0.0.1' });
    return { client, close: closing(() => client.disconnect()) };
  }
  const client = quiet(createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy } }));
  await client.connect();
  return { client, close: closing(() => client.destroy()) };
}

export async function clusterClient(library: ClientLibrary, nodes: Array<{ host: string; port: number }>): Promise<PassedClient> {
  if (library === 'ioredis') {
    const client = new Cluster(nodes);
    return { client, close: closing(() => client.disconnect()) };
  }
  const client = quiet(
    createCluster({ rootNodes: nodes.map((socket) => ({ socket })), defaults: { socket: { reconnectStrategy } } }),
  );
  await client.connect();
  return { client, close: closing(() => client.destroy()) };
}

export async function sentinelClient(library: ClientLibrary, sentinels: Array<{ host: string; port: number }>, name: string): Promise<PassedClient> {
  if (library === 'ioredis') {
    const client = new Redis({ sentinels, name, failoverDetector: true });
    return { client, close: closing(() => client.disconnect()) };
  }
  const client = quiet(createSentinel({ name, sentinelRootNodes: sentinels, nodeClientOptions: { socket: { reconnectStrategy } } }));
  await client.connect();
  return { client, close: closing(() => client.destroy()) };
}
