import { isIPv4, isIPv6 } from 'node:net';

/**
 * The budget key of a client address: IPv4 as is; IPv4-mapped, IPv4-compatible and NAT64
 * IPv6 addresses as their IPv4; other IPv6 masked to `/prefix` (one client usually owns a /64).
 */
export function normalizeClientIp(ip: string, ipv6Prefix: number): string {
  if (isIPv4(ip)) return ip;
  const zone = ip.indexOf('%');
  const address = zone === -1 ? ip : ip.slice(0, zone);
  if (!isIPv6(address)) return ip;
  const groups = expandIPv6(address);
  const embedded = embeddedIPv4(groups);
  if (embedded) return embedded;
  return `${maskIPv6(groups, ipv6Prefix)}/${ipv6Prefix}`;
}

function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16));
}

function embeddedIPv4(g: number[]): string | undefined {
  const firstFiveZero = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0;
  const mapped = firstFiveZero && g[5] === 0xffff;
  const compatible = firstFiveZero && g[5] === 0 && (g[6] !== 0 || g[7] > 1);
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0;
  if (!mapped && !compatible && !nat64) return undefined;
  return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
}

/** The groups a prefix covers, masked; the rest are all zero and left out. */
function maskIPv6(groups: number[], prefix: number): string {
  return groups
    .slice(0, Math.ceil(prefix / 16))
    .map((group, i) => {
      const bits = Math.max(0, Math.min(16, prefix - i * 16));
      return (group & (0xffff << (16 - bits)) & 0xffff).toString(16);
    })
    .join(':');
}
