import type { Cluster, Redis } from 'ioredis';
import { DECIDE_SCRIPT, DECIDE_SCRIPT_VERSION } from '../../generated/decide-script.js';
import type { RateLimitStore, StoreCall, StoreReply } from '../rate-limit-store.interface.js';

type DecideCommand = (...args: Array<string | number>) => Promise<StoreReply>;

/**
 * Decides through the `decide` Lua script. ioredis routes a defined command by its fixed key
 * count, so one command is registered per key count, under a name stamped with the script's
 * version so that other libraries' (or other versions') commands on a shared client are untouched.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly commands: DecideCommand[] = [];

  constructor(readonly client: Redis | Cluster) {}

  isReady(): boolean {
    return this.client.status === 'ready';
  }

  decide(calls: readonly StoreCall[], nowUs = 0): Promise<StoreReply> {
    const keys: string[] = [];
    const args: Array<string | number> = [nowUs];
    for (const call of calls) {
      keys.push(call.key);
      if (call.blockKey !== undefined) keys.push(call.blockKey);
      args.push(call.algorithm, call.limit, call.windowMs, call.burst, call.cost, call.blockForMs, call.shadow ? 1 : 0);
    }
    return this.command(keys.length)(...keys, ...args);
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
