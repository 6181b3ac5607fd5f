import { describe, expect, it } from '@jest/globals';
import type { RateLimitPolicy } from 'nestjs-redis-rate-limit';
import { resolveOptions } from '../../lib/options/resolved-options.js';
import { PolicyShapeCache } from '../../lib/policy/policy-shape-cache.js';
import { RateLimitPolicyRegistry } from '../../lib/policy/rate-limit-policy.registry.js';

/**
 * `RateLimiterService` policies written inline (a new object per call) are compiled once per
 * shape: equal literals share one compiled policy, different ones never do, and the cache stays
 * bounded whatever the callers pass.
 */

const registry = (defaults: Partial<RateLimitPolicy> = {}) => new RateLimitPolicyRegistry(resolveOptions({ redis: 'redis://127.0.0.1:1', defaults }));

describe('policy shape cache', () => {
  it('gives equal inline literals one compiled policy', () => {
    const policies = registry();
    const first = policies.forService({ algorithm: 'gcra', limit: 10, window: '1m', name: 'inline' });
    const second = policies.forService({ algorithm: 'gcra', limit: 10, window: '1m', name: 'inline' });
    expect(second).toBe(first);
    expect(first).toMatchObject({ algorithm: 'gcra', limit: 10, windowMs: 60_000, name: 'inline' });
  });

  it('never gives two different shapes one compiled policy', () => {
    const policies = registry({ name: 'from-defaults' });
    const limitFn = () => 5;
    const otherLimitFn = () => 5;
    const shapes: RateLimitPolicy[] = [
      { limit: 10, window: 1000 },
      { limit: 11, window: 1000 },
      { limit: 10, window: '1s' },
      { limit: 10, window: 1000, name: 'a' },
      { limit: 10, window: 1000, name: 'a', bucket: 'b' },
      { limit: 10, window: 1000, name: 'b', bucket: 'a' },
      // Set to undefined, the name overrides the module's default: 'default', not 'from-defaults'.
      { limit: 10, window: 1000, name: undefined },
      { limit: 10, window: 1000, algorithm: 'gcra' },
      { limit: 10, window: 1000, mode: 'shadow' },
      { limit: 10, window: 1000, cost: 0 },
      { limit: 10, window: 1000, cost: 2 },
      { limit: limitFn, window: 1000, name: 'fn' },
      { limit: otherLimitFn, window: 1000, name: 'fn2' },
    ];
    const compiled = shapes.map((shape) => policies.forService({ ...shape }));
    expect(new Set(compiled).size).toBe(shapes.length);
    // Each one is what its own fields say, whichever shapes came before it.
    compiled.forEach((policy, i) => {
      const fresh = registry({ name: 'from-defaults' }).forService({ ...shapes[i] });
      expect({ ...policy, idOf: undefined }).toEqual({ ...fresh, idOf: undefined });
    });
    expect(compiled[0].name).toBe('from-defaults');
    expect(compiled[6].name).toBe('default');
    expect(compiled[11].limit).toBe(limitFn);
    expect(compiled[12].limit).toBe(otherLimitFn);
    // The same function again: the same compiled policy.
    expect(policies.forService({ limit: limitFn, window: 1000, name: 'fn' })).toBe(compiled[11]);
  });

  it('refuses an invalid inline policy on every call, caching nothing for it', () => {
    const policies = registry();
    expect(() => policies.forService({ limit: 0, window: 1000 })).toThrow(/limit/);
    expect(() => policies.forService({ limit: 0, window: 1000 })).toThrow(/limit/);
    expect(() => policies.forService({ limit: 1, window: 1000, nope: 1 } as RateLimitPolicy)).toThrow(/not a policy field/);
  });

  it('stays bounded when every call has a new shape (a function made per call)', () => {
    const max = 64;
    const cache = new PolicyShapeCache(max);
    const first = cache.nodeOf({ limit: 1, window: 1000 })!;
    for (let i = 0; i < 10 * max; i++) {
      const node = cache.nodeOf({ limit: () => i, window: 1000, name: 'per-call' })!;
      expect(node.compiled).toBeUndefined();
      expect(cache.size).toBeLessThanOrEqual(max + 3);
    }
    // The first shape was evicted with the rest: a lookup now finds a fresh node.
    expect(cache.nodeOf({ limit: 1, window: 1000 })).not.toBe(first);
  });

  it('leaves objects it cannot key (an object value, an inherited field) uncached', () => {
    const cache = new PolicyShapeCache();
    expect(cache.nodeOf({ limit: 1, window: { ms: 1 } } as unknown as RateLimitPolicy)).toBeUndefined();
    expect(cache.nodeOf(Object.create({ limit: 1 }) as RateLimitPolicy)).toBeUndefined();
    expect(cache.nodeOf({ limit: -0, window: 1 })).not.toBe(cache.nodeOf({ limit: 0, window: 1 }));
  });
});
