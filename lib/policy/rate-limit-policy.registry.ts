import { Inject, Injectable } from '@nestjs/common';
import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import { configError } from '../errors/rate-limit-config.error.js';
import { RATE_LIMIT_OPTIONS, RATE_LIMIT_POLICIES, SKIP_RATE_LIMIT } from '../rate-limit.constants.js';
import type { ResolvedOptions } from '../options/resolved-options.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { bucketShape, compilePolicy, policyName } from './compile-policy.js';
import { PolicyShapeCache } from './policy-shape-cache.js';
import { routeScope } from './route-scope.js';

type Handler = object;
type Skip = true | string[] | undefined;

/**
 * Resolves, validates and caches the policies of every handler (module policies, then class,
 * then handler, by name) and keeps every `bucket` to one shape.
 */
@Injectable()
export class RateLimitPolicyRegistry {
  private readonly byClass = new Map<object, Map<Handler, readonly CompiledPolicy[]>>();
  private readonly buckets = new Map<string, CompiledPolicy>();
  private readonly standalone = new WeakMap<RateLimitPolicy, CompiledPolicy>();
  /** Service policies by shape: an inline literal, a new object each call, is compiled once. */
  private readonly shapes = new PolicyShapeCache();

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  /** The policies of a handler, compiled on first use (the explorer does it at start-up). */
  forHandler(classRef: object, handler: Handler): readonly CompiledPolicy[] {
    let handlers = this.byClass.get(classRef);
    if (!handlers) this.byClass.set(classRef, (handlers = new Map()));
    let policies = handlers.get(handler);
    if (!policies) {
      policies = this.compileHandler(classRef, handler);
      handlers.set(handler, policies);
    }
    return policies;
  }

  /**
   * A policy given to `RateLimiterService`: its budget is its `bucket`, or else its name.
   * Compiled once per object (a constant), and once per shape (a literal written inline).
   */
  forService(policy: RateLimitPolicy): CompiledPolicy {
    const known = this.standalone.get(policy);
    if (known) return known;
    const node = typeof policy === 'object' && policy !== null ? this.shapes.nodeOf(policy) : undefined;
    if (node?.compiled) return node.compiled;
    const compiled = this.register(compilePolicy(policy, this.options, `name:${policyName(policy)}`, 'RateLimiterService'));
    if (node) node.compiled = compiled;
    // The object itself only when its shape was new: an inline literal is gone after its call,
    // and a weak entry per call would be work for the collector.
    this.standalone.set(policy, compiled);
    return compiled;
  }

  /** Whether a handler declares policies of its own (class or handler metadata). */
  hasOwnPolicies(classRef: object, handler: Handler): boolean {
    return Boolean(Reflect.getMetadata(RATE_LIMIT_POLICIES, handler) ?? Reflect.getMetadata(RATE_LIMIT_POLICIES, classRef));
  }

  private compileHandler(classRef: object, handler: Handler): readonly CompiledPolicy[] {
    const where = `${(classRef as { name?: string }).name ?? 'anonymous'}.${(handler as { name?: string }).name || 'anonymous'}`;
    const chosen = new Map<string, RateLimitPolicy>();
    this.apply(chosen, this.options.policies, undefined, `${where} (module policies)`);
    this.apply(chosen, Reflect.getMetadata(RATE_LIMIT_POLICIES, classRef), Reflect.getMetadata(SKIP_RATE_LIMIT, classRef), where);
    this.apply(chosen, Reflect.getMetadata(RATE_LIMIT_POLICIES, handler), Reflect.getMetadata(SKIP_RATE_LIMIT, handler), where);
    if (chosen.size === 0) return [];
    const scope = routeScope(classRef, handler, where);
    return [...chosen.values()].map((policy) => this.register(compilePolicy(policy, this.options, scope, where)));
  }

  /**
   * Adds one level's policies (module, class, handler) over the levels above it. The level's
   * skip removes its own policies and those above: `@SkipRateLimit()` with `@RateLimit` on one
   * handler leaves it unlimited; a name skips that name at this level and above.
   */
  private apply(chosen: Map<string, RateLimitPolicy>, policies: RateLimitPolicy[] | undefined, skip: Skip, where: string) {
    if (skip === true) chosen.clear();
    else skip?.forEach((name) => chosen.delete(name));
    const seen = new Set<string>();
    for (const policy of policies ?? []) {
      const name = policyName({ ...this.options.defaults, ...policy });
      if (seen.has(name)) {
        throw configError(where, `two policies are named "${name}"; give each policy of a route its own name`);
      }
      seen.add(name);
      if (skip === true || skip?.includes(name)) continue;
      chosen.set(name, policy);
    }
  }

  private register(policy: CompiledPolicy): CompiledPolicy {
    if (policy.bucket === undefined) return policy;
    const key = `${policy.bucket}\n${policy.name}`;
    const first = this.buckets.get(key);
    if (!first) {
      this.buckets.set(key, policy);
    } else if (bucketShape(first) !== bucketShape(policy) || (typeof policy.limit === 'function' && first.limit !== policy.limit) || first.windowOf !== policy.windowOf) {
      throw configError(
        policy.where,
        `policy "${policy.name}": bucket "${policy.bucket}" is used with ${bucketShape(policy)} here but with ${bucketShape(first)} in ${first.where}; one bucket must have one shape (a limit or window function: the same function everywhere)`,
      );
    }
    return policy;
  }
}
