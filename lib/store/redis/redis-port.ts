/**
 * What the store needs of a Redis client, whichever library it comes from (ioredis or
 * node-redis): one small port, so that the store, its batching and Cluster slot groups, the
 * engine's breaker and timeouts and the health indicator behave the same on every client.
 */
export interface RedisPort {
  /** How the client reaches Redis, as the health indicator reports it. */
  readonly mode: 'standalone' | 'cluster' | 'sentinel';
  /** The client itself (what the app passed, or what the module created). */
  readonly client: object;

  /**
   * True while a decision sent now goes out at once. While it is false nothing is sent: a
   * request never waits in a client's offline queue for a reconnect.
   */
  isReady(): boolean;
  /** The connection's state in a word ('ready', 'connecting', 'reconnecting', 'closed'...), for messages. */
  status(): string;
  /** Connects a client that was created without connecting (it would wait for a first command the store never sends). */
  connect(): void;

  /**
   * Runs the `decide` script: EVALSHA, and on NOSCRIPT (a flushed or restarted Redis) EVAL,
   * which loads it again. On a Cluster the call is routed by `keys[0]`; all its keys share a
   * slot. Rejects at once if the connection that would carry it is not ready, and a call that
   * was not written when its connection dropped is failed, never sent after the reconnect.
   */
  decide(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<number[]>;
  del(key: string): Promise<unknown>;
  ping(): Promise<unknown>;
  /** The `INFO server` text (the server's version is checked at start-up). */
  info(): Promise<string>;

  /**
   * From now on, loads the script on every connection that decides whenever it becomes ready
   * (a start, a reconnect, a failover, a new Cluster master), so that the first decisions on it
   * do not pay for the load (or, on an ioredis Cluster, for connecting a node).
   */
  startWarmUp(): void;
  /** Stops the warm-up and removes every listener it put on the client. */
  stopWarmUp(): void;
  /** Waits up to `ms` for the client to be ready, then (within the same `ms`) for the script on every deciding connection. */
  untilWarm(ms: number): Promise<'warm' | 'cold' | 'not ready'>;

  /** Closes a client the module created (never one the app passed). */
  close(): Promise<void>;
}
