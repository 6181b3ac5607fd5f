import type { RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { POLICY_FIELDS } from './compile-policy.js';

/** One step of a shape: the fields seen so far, each with its value; `compiled` once a policy ends here. */
class ShapeNode {
  readonly next = new Map<string, Map<unknown, ShapeNode>>();
  compiled: CompiledPolicy | undefined;
}

/** `-0` and `0` are one key to a Map; as a policy value `-0` is kept apart all the same. */
const NEGATIVE_ZERO = Symbol('-0');

/**
 * Compiled policies by shape, for policy objects written inline (a new object on every call of
 * `RateLimiterService`): the same own fields in the same order with the same values — functions
 * by identity — reach the same node, so they share one compiled policy, and any difference
 * (a value, a function, a field set to `undefined` rather than left out: it overrides the
 * module's default) leads elsewhere. A tree of maps keyed by the values themselves, so a lookup
 * builds no string.
 *
 * Bounded: past `max` nodes the tree starts afresh (the shapes in use come back at once). A
 * policy with a function made anew on every call has a new shape each time: it fills the tree
 * and clears it, it never grows it past the bound.
 */
export class PolicyShapeCache {
  private root = new ShapeNode();
  private nodes = 1;

  constructor(private readonly max = 4096) {}

  /** Nodes held (at most `max` plus one policy's worth). */
  get size(): number {
    return this.nodes;
  }

  /**
   * The node of a policy's shape, whose `compiled` is the policy compiled, or is to be set;
   * `undefined` when a field is inherited, not a policy field, or holds an object: such a policy
   * is compiled every time (which refuses it, as no policy field takes an object).
   */
  nodeOf(policy: RateLimitPolicy): ShapeNode | undefined {
    if (this.nodes >= this.max) {
      this.root = new ShapeNode();
      this.nodes = 1;
    }
    let node = this.root;
    for (const field in policy) {
      if (!Object.hasOwn(policy, field) || !POLICY_FIELDS.has(field)) return undefined;
      let value: unknown = policy[field as keyof RateLimitPolicy];
      const type = typeof value;
      if (type === 'object' ? value !== null : type === 'symbol' || type === 'bigint') return undefined;
      if (value === 0 && Object.is(value, -0)) value = NEGATIVE_ZERO;
      let values = node.next.get(field);
      if (!values) {
        values = new Map();
        node.next.set(field, values);
      }
      let next = values.get(value);
      if (!next) {
        next = new ShapeNode();
        values.set(value, next);
        this.nodes++;
      }
      node = next;
    }
    return node;
  }
}
