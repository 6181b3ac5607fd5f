import type { StoreCall, StoreReply } from '../rate-limit-store.interface.js';

type Decide = (calls: readonly StoreCall[]) => Promise<StoreReply>;

/** The Cluster hash tag of a key, `{...}` included: keys with equal tags share a slot. */
export const slotTag = (key: string) => key.slice(key.indexOf('{'), key.indexOf('}') + 1);

/**
 * Decides calls whose keys live in different Cluster slots, where one script cannot see them
 * all: the groups go in a fixed order (sorted by tag, the same for every request), and when a
 * later group denies, the charges of the earlier ones are refunded. Between the charge and the
 * refund another request may see the earlier budget briefly lower (under-admission), never higher.
 */
export async function decideInSlotGroups(calls: readonly StoreCall[], decide: Decide): Promise<StoreReply> {
  const groups = new Map<string, number[]>();
  calls.forEach((call, i) => {
    const tag = slotTag(call.key);
    const members = groups.get(tag);
    if (members) members.push(i);
    else groups.set(tag, [i]);
  });
  if (groups.size === 1) return decide(calls);

  const ordered = [...groups.keys()].sort().map((tag) => groups.get(tag)!);
  const reply: StoreReply = new Array(1 + calls.length * 4);
  reply[0] = 1;
  const charged: StoreCall[] = [];
  for (const members of ordered) {
    const denied = reply[0] === 0;
    const groupCalls = members.map((i) => (denied ? { ...calls[i], cost: 0 } : calls[i]));
    const groupReply = await decide(groupCalls);
    members.forEach((callIndex, j) => {
      for (let f = 0; f < 4; f++) reply[1 + callIndex * 4 + f] = groupReply[1 + j * 4 + f];
    });
    if (denied) continue;
    if (groupReply[0] === 0) {
      reply[0] = 0;
      await refund(charged, decide);
    } else {
      members.forEach((callIndex, j) => {
        if (groupReply[1 + j * 4] === 1 && calls[callIndex].cost > 0) charged.push(calls[callIndex]);
      });
    }
  }
  return reply;
}

async function refund(charged: readonly StoreCall[], decide: Decide): Promise<void> {
  const bySlot = new Map<string, StoreCall[]>();
  for (const call of charged) {
    const refundCall = { ...call, cost: -call.cost };
    const tag = slotTag(call.key);
    const group = bySlot.get(tag);
    if (group) group.push(refundCall);
    else bySlot.set(tag, [refundCall]);
  }
  await Promise.all([...bySlot.values()].map((group) => decide(group)));
}
