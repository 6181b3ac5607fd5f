import { createHash } from 'node:crypto';
import type { AlgorithmSpec } from '../algorithms/algorithm-table.js';

/**
 * The `id` part of a key: the algorithm's letter (so a policy that changes algorithm never meets
 * its old state) and 48 bits of a hash of the budget's scope and the policy's name.
 */
export function policyId(algorithm: AlgorithmSpec, scope: string, name: string): string {
  const digest = createHash('sha256').update(`${scope}\n${name}`).digest('base64url');
  return algorithm.letter + digest.slice(0, 8);
}

/** `<prefix>:{<tag>}:<id>`: every key of one tracker shares a Cluster hash slot. */
export const stateKey = (prefix: string, tag: string, id: string) => `${prefix}:{${tag}}:${id}`;
export const blockKey = (state: string) => `${state}:b`;
