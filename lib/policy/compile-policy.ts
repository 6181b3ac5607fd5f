import type { Duration, EnforcementMode, FailMode, RateLimitPolicy } from '../interfaces/rate-limit-policy.interface.js';
import { configError, describeValue } from '../errors/rate-limit-config.error.js';
import { policyId } from '../keys/policy-key.js';
import { ALGORITHM_TABLE, algorithmNamed, type AlgorithmSpec } from '../algorithms/algorithm-table.js';
import type { CompiledPolicy } from './compiled-policy.js';
import { parseDuration } from './parse-duration.js';
import { checkLimitRange } from './limit-range.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** The fields a policy object may have. */
export const POLICY_FIELDS: ReadonlySet<string> = new Set([
  'algorithm', 'limit', 'window', 'cost', 'burst', 'name', 'bucket', 'tracker', 'blockFor', 'failMode', 'mode', 'skipIf', 'refund', 'settle', 'lease',
]);
/** The algorithms whose units a policy may lease. */
const LEASED = ['fixed-window', 'token-bucket', 'gcra'];
const REFUNDS = ['on-success', 'on-failure'];

/** What a policy inherits from the module's options. */
export interface PolicyDefaults {
  defaults: Partial<RateLimitPolicy>;
  failMode: FailMode;
  mode: EnforcementMode;
}

export const policyName = (policy: Partial<RateLimitPolicy>) => policy.name ?? 'default';

/**
 * Validates a policy (merged over the module's `defaults`) and binds it to its budget.
 * `scope` identifies the budget when the policy names no `bucket` (a route, or a service name).
 */
export function compilePolicy(
  raw: RateLimitPolicy,
  options: PolicyDefaults,
  scope: string,
  where: string,
): CompiledPolicy {
  if (!raw || typeof raw !== 'object') throw configError(where, `a policy must be an object (got ${describeValue(raw)})`);
  const policy: RateLimitPolicy = { ...options.defaults, ...raw };
  const name = policyName(policy);
  const fail = (field: string, rule: string, value: unknown) =>
    configError(where, `policy "${name}": ${field} ${rule} (got ${describeValue(value)})`);

  for (const field of Object.keys(raw)) {
    if (!POLICY_FIELDS.has(field)) throw fail(field, `is not a policy field; known fields: ${[...POLICY_FIELDS].join(', ')}`, raw[field as keyof RateLimitPolicy]);
  }
  if (typeof name !== 'string' || !NAME.test(name)) throw fail('name', `must match ${NAME.source}`, name);
  const spec = algorithmNamed(policy.algorithm ?? 'fixed-window');
  if (!spec) {
    throw fail('algorithm', `must be one of ${ALGORITHM_TABLE.map((a) => `'${a.name}'`).join(', ')}`, policy.algorithm);
  }
  const windowOf = typeof policy.window === 'function' ? policy.window : undefined;
  const windowMs = windowOf ? 0 : parseDuration(policy.window as Duration | undefined);
  if (windowMs === undefined) {
    throw fail('window', "must be a whole number of ms >= 1, a string such as '500ms', '30s', '15m', '1h', '1d', or a function of the request", policy.window);
  }
  const { limit, cost, burst } = policy;
  if (typeof limit !== 'function' && !(Number.isInteger(limit) && (limit as number) >= 1)) {
    throw fail('limit', 'must be an integer >= 1 or a function of the request', limit);
  }
  if (typeof cost !== 'function' && cost !== undefined && !(Number.isInteger(cost) && cost >= 0)) {
    throw fail('cost', 'must be an integer >= 0 or a function of the request', cost);
  }
  if (burst !== undefined) {
    if (spec.kind !== 'bucket') {
      const buckets = ALGORITHM_TABLE.filter((a) => a.kind === 'bucket').map((a) => `'${a.name}'`);
      throw fail('burst', `applies only to ${buckets.join(' and ')}`, burst);
    }
    if (!(Number.isInteger(burst) && burst >= 1)) throw fail('burst', 'must be an integer >= 1', burst);
  }
  if (typeof limit === 'number' && !windowOf) {
    const problem = checkLimitRange(spec, limit, windowMs, burst ?? limit);
    if (problem) throw fail('limit', problem, limit);
  }
  const blockForMs = policy.blockFor === undefined ? 0 : parseDuration(policy.blockFor);
  if (blockForMs === undefined) throw fail('blockFor', "must be a whole number of ms >= 1 or a string such as '15m'", policy.blockFor);
  if (policy.bucket !== undefined && (typeof policy.bucket !== 'string' || !NAME.test(policy.bucket))) {
    throw fail('bucket', `must match ${NAME.source}`, policy.bucket);
  }
  if (policy.tracker !== undefined && typeof policy.tracker !== 'function') throw fail('tracker', 'must be a function', policy.tracker);
  if (policy.skipIf !== undefined && typeof policy.skipIf !== 'function') throw fail('skipIf', 'must be a function', policy.skipIf);
  const failMode = policy.failMode ?? options.failMode;
  if (!['open', 'closed', 'local'].includes(failMode)) throw fail('failMode', "must be 'open', 'closed' or 'local'", failMode);
  const mode = policy.mode ?? options.mode;
  if (!['enforce', 'shadow'].includes(mode)) throw fail('mode', "must be 'enforce' or 'shadow'", mode);
  const { refund } = policy;
  if (refund !== undefined && !REFUNDS.includes(refund)) throw fail('refund', "must be 'on-success' or 'on-failure'", refund);
  const { settle } = policy;
  if (settle !== undefined && typeof settle !== 'function') throw fail('settle', 'must be a function (outcome, context) => number', settle);
  if (settle !== undefined && refund !== undefined) throw fail('settle', "and refund exclude each other (settle gives the cost back itself: return 0)", refund);
  if (spec.kind === 'slots') {
    if (settle !== undefined) throw fail('settle', "does not apply to 'concurrency' (a slot is one request, whatever it cost)", settle);
    // A slot is one request in flight, released after the response: nothing else applies.
    if (blockForMs > 0) throw fail('blockFor', "does not apply to 'concurrency' (a slot frees up when a request finishes)", policy.blockFor);
    if (refund !== undefined) throw fail('refund', "does not apply to 'concurrency' (its slot is always released after the response)", refund);
    if (cost !== undefined && cost !== 1) throw fail('cost', "must be 1 on 'concurrency' (one slot per request)", cost);
  }
  const lease = compileLease(policy, spec.name, { blockForMs, settle, refund, shadow: mode === 'shadow' }, fail);

  const budget = policy.bucket === undefined ? scope : `bucket:${policy.bucket}`;
  return {
    name,
    algorithm: spec.name,
    spec,
    windowMs,
    windowOf,
    idOf: windowOf ? windowIds(spec, budget, name) : undefined,
    limit: limit as CompiledPolicy['limit'],
    cost: cost ?? 1,
    burst,
    blockForMs,
    failMode,
    shadow: mode === 'shadow',
    tracker: policy.tracker,
    skipIf: policy.skipIf,
    bucket: policy.bucket,
    refund,
    settle,
    lease,
    afterWork: refund !== undefined || settle !== undefined || spec.kind === 'slots',
    id: policyId(spec, budget, name),
    where,
  };
}

/**
 * A policy's `lease` (0: none). Leased units are admitted locally, so nothing that needs every
 * request to reach the store can go with it: a block after a denial, after-response work on a
 * charge, or a shadow policy's denials.
 */
function compileLease(
  policy: RateLimitPolicy,
  algorithm: string,
  others: { blockForMs: number; settle: unknown; refund: unknown; shadow: boolean },
  fail: (field: string, rule: string, value: unknown) => Error,
): number {
  const { lease } = policy;
  if (lease === undefined) return 0;
  if (!(Number.isInteger(lease) && lease >= 2)) throw fail('lease', 'must be an integer >= 2', lease);
  if (!LEASED.includes(algorithm)) throw fail('lease', `applies only to ${LEASED.map((a) => `'${a}'`).join(', ')}, not '${algorithm}'`, lease);
  const conflict = (field: string, why: string) => fail('lease', `and ${field} exclude each other (${why})`, lease);
  if (others.blockForMs > 0) throw conflict('blockFor', 'a block needs every denial to reach the store');
  if (others.settle !== undefined) throw conflict('settle', 'leased units are charged before the requests that spend them');
  if (others.refund !== undefined) throw conflict('refund', 'leased units are charged before the requests that spend them');
  if (others.shadow) throw conflict("mode 'shadow'", 'a shadow policy must see every request in the store');
  return lease;
}

/** Ids by resolved window (a client's tier rarely changes: a few entries per policy). */
function windowIds(spec: AlgorithmSpec, budget: string, name: string): (windowMs: number) => string {
  const ids = new Map<number, string>();
  return (windowMs) => {
    let id = ids.get(windowMs);
    if (id === undefined) {
      if (ids.size >= 64) ids.clear();
      id = policyId(spec, `${budget}\nwindow:${windowMs}`, name);
      ids.set(windowMs, id);
    }
    return id;
  };
}

/** What must agree wherever one `bucket` is used (functions: the same one). */
export const bucketShape = (p: CompiledPolicy) =>
  `algorithm '${p.algorithm}', limit ${typeof p.limit === 'function' ? '(function)' : p.limit}, window ${p.windowOf ? '(function)' : `${p.windowMs} ms`}` +
  (p.burst === undefined ? '' : `, burst ${p.burst}`);
