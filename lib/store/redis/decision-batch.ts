import type { StoreCall, StoreReply } from '../rate-limit-store.interface.js';

interface Waiting {
  policies: number;
  resolve(reply: StoreReply): void;
  reject(error: unknown): void;
}

/**
 * Requests to be decided by one call of the `decide` script, in the order they were added:
 * the keys and arguments of each (see lua/decide.lua), and whom to answer with its share of
 * the reply.
 */
export class DecisionBatch {
  readonly keys: string[] = [];
  readonly args: Array<string | number>;
  private readonly waiting: Waiting[] = [];

  constructor(nowUs: number) {
    this.args = [nowUs];
  }

  add(calls: readonly StoreCall[]): Promise<StoreReply> {
    const { keys, args } = this;
    args.push(calls.length);
    for (const call of calls) {
      keys.push(call.key);
      if (call.blockKey !== undefined) keys.push(call.blockKey);
      args.push(`${call.algorithm}:${call.limit}:${call.windowMs}:${call.burst}:${call.blockForMs}:${call.shadow ? 1 : 0}`, call.cost);
    }
    return new Promise<StoreReply>((resolve, reject) => this.waiting.push({ policies: calls.length, resolve, reject }));
  }

  /** Hands each request its part of the script's reply. */
  settle(reply: StoreReply): void {
    let at = 0;
    for (const { policies, resolve } of this.waiting) {
      const end = at + 1 + policies * 4;
      resolve(reply.slice(at, end));
      at = end;
    }
  }

  fail(error: unknown): void {
    for (const { reject } of this.waiting) reject(error);
  }
}
