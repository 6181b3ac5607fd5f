import type { StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';
import { decodeVerdict, encodeRequest, replyLength } from './decide-codec.js';

interface Waiting {
  calls: readonly StoreCall[];
  resolve(verdict: StoreVerdict): void;
  reject(error: unknown): void;
}

/**
 * Requests to be decided by one call of the `decide` script, in the order they were added:
 * their keys and arguments, and whom to answer with its share of the reply.
 */
export class DecisionBatch {
  readonly keys: string[] = [];
  readonly args: Array<string | number>;
  private readonly waiting: Waiting[] = [];

  /** `nowUs` 0: the script reads Redis TIME (anything else is a test clock). */
  constructor(nowUs: number) {
    this.args = [nowUs];
  }

  add(calls: readonly StoreCall[]): Promise<StoreVerdict> {
    encodeRequest(calls, this.keys, this.args);
    return new Promise<StoreVerdict>((resolve, reject) => this.waiting.push({ calls, resolve, reject }));
  }

  /** Hands each request its part of the script's reply. */
  settle(reply: readonly number[]): void {
    let at = 0;
    for (const { calls, resolve } of this.waiting) {
      resolve(decodeVerdict(reply, at, calls));
      at += replyLength(calls.length);
    }
  }

  fail(error: unknown): void {
    for (const { reject } of this.waiting) reject(error);
  }
}
