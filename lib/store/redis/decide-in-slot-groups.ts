import { giveBackOf } from '../give-back.js';
import type { PolicyResult, StoreCall, StoreVerdict } from '../rate-limit-store.interface.js';

type Decide = (calls: readonly StoreCall[]) => Promise<StoreVerdict>;

/** The Cluster hash tag of a key, `{...}` included: keys with equal tags share a slot. */
export const slotTag = (key: string) => key.slice(key.indexOf('{'), key.indexOf('}') + 1);

/**
 * Decides calls whose keys live in different Cluster slots, where one script cannot see them
 * all: the groups go in a fixed order (sorted by tag, the same for every request), and when a
 * later group denies, the charges of the earlier ones are refunded. Between the charge and the
 * refund another request may see the earlier budget briefly lower (under-admission), never higher.
 */
export async function decideInSlotGroups(calls: readonly StoreCall[], decide: Decide): Promise<StoreVerdict> {
  const groups = new Map<string, number[]>();
  calls.forEach((call, i) => {
    const tag = slotTag(call.key);
    const members = groups.get(tag);
    if (members) members.push(i);
    else groups.set(tag, [i]);
  });
  if (groups.size === 1) return decide(calls);

  const ordered = [...groups.keys()].sort().map((tag) => groups.get(tag)!);
  const results: PolicyResult[] = new Array(calls.length);
  let allowed = true;
  const giveBacks: StoreCall[] = [];
  const chargedAt: number[] = [];
  for (const members of ordered) {
    // After a denial the remaining groups are only peeked, for their numbers.
    const groupCalls = members.map((i) => (allowed ? calls[i] : { ...calls[i], cost: 0, lease: undefined }));
    const group = await decide(groupCalls);
    members.forEach((callIndex, j) => (results[callIndex] = group.results[j]));
    if (!allowed) continue;
    if (!group.allowed) {
      allowed = false;
      await refund(giveBacks, decide);
      // Given back: the request holds no charge any more.
      for (const i of chargedAt) results[i] = { ...results[i], charge: undefined };
    } else {
      members.forEach((callIndex, j) => {
        const { charge: handle, leased } = group.results[j];
        if (handle) {
          giveBacks.push(giveBackOf(calls[callIndex], leased ?? calls[callIndex].cost, handle));
          chargedAt.push(callIndex);
        }
      });
    }
  }
  return { allowed, results };
}

/** Gives the charges back (each into what it charged), one call per slot. */
async function refund(giveBacks: readonly StoreCall[], decide: Decide): Promise<void> {
  const bySlot = new Map<string, StoreCall[]>();
  for (const call of giveBacks) {
    const tag = slotTag(call.key);
    const group = bySlot.get(tag);
    if (group) group.push(call);
    else bySlot.set(tag, [call]);
  }
  await Promise.all([...bySlot.values()].map((group) => decide(group)));
}
