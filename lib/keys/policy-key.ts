import { createHash } from 'node:crypto';
import type { AlgorithmSpec } from '../algorithms/algorithm-table.js';

/**
 * The layout of the state the scripts keep (lua/*.lua), one character of every key id. A release
 * that changes a layout bumps it, so instances of two releases in one rolling deploy keep apart
 * states rather than reading each other's.
 */
export const STATE_FORMAT_VERSION = '3';

/**
 * The `id` part of a key: the state format, the algorithm's letter (so a policy that changes
 * algorithm never meets its old state) and 48 bits of a hash of the budget's scope and the policy's name.
 */
export function policyId(algorithm: AlgorithmSpec, scope: string, name: string): string {
  const digest = createHash('sha256').update(`${scope}\n${name}`).digest('base64url');
  return STATE_FORMAT_VERSION + algorithm.letter + digest.slice(0, 8);
}

/** `<prefix>:{<tag>}:<id>`: every key of one tracker shares a Cluster hash slot. */
export const stateKey = (prefix: string, tag: string, id: string) => `${prefix}:{${tag}}:${id}`;
export const blockKey = (state: string) => `${state}:b`;
