import { describe, expect, it } from '@jest/globals';
import { policyId, STATE_FORMAT_VERSION } from '../../lib/keys/policy-key.js';
import { ALGORITHM_TABLE } from '../../lib/algorithms/algorithm-table.js';

describe('policy ids', () => {
  it('carry the state format, then the algorithm, then 8 hash characters', () => {
    const ids = ALGORITHM_TABLE.map((spec) => policyId(spec, 'Controller.handler', 'default'));
    for (const id of ids) expect(id).toMatch(new RegExp(`^${STATE_FORMAT_VERSION}[fwltg][A-Za-z0-9_-]{8}$`));
    expect(new Set(ids.map((id) => id[1])).size).toBe(ids.length);
    // One policy, one hash, whatever its algorithm.
    expect(new Set(ids.map((id) => id.slice(2))).size).toBe(1);
  });
});
