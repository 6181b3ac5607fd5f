import { normalizeClientIp } from './client-ip.js';

/** `normalizeClientIp` with a bounded memo: the same few addresses come back on every request. */
export class ClientIpNormalizer {
  private readonly memo = new Map<string, string>();

  constructor(
    private readonly ipv6Prefix: number,
    private readonly max = 10_000,
  ) {}

  normalize(ip: string): string {
    let normalized = this.memo.get(ip);
    if (normalized === undefined) {
      normalized = normalizeClientIp(ip, this.ipv6Prefix);
      if (this.memo.size >= this.max) this.memo.clear();
      this.memo.set(ip, normalized);
    }
    return normalized;
  }
}
