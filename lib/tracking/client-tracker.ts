import type { ExecutionContext, Logger } from '@nestjs/common';
import { clientAddress } from '../contexts/client-address.js';
import { ClientIpNormalizer } from './client-ip-normalizer.js';

/** The default tracker: the client's normalised address, or `'unknown'` when the context has none. */
export class ClientTracker {
  private readonly ips: ClientIpNormalizer;
  private warnedUnknown = false;

  constructor(
    ipv6Prefix: number,
    private readonly logger: Logger,
  ) {
    this.ips = new ClientIpNormalizer(ipv6Prefix);
  }

  readonly of = (context: ExecutionContext): string => {
    const ip = clientAddress(context);
    if (ip) return this.ips.normalize(ip);
    if (!this.warnedUnknown) {
      this.warnedUnknown = true;
      this.logger.warn("a request has no client IP (microservice messages have none); it is tracked as 'unknown': set a tracker to key it otherwise");
    }
    return 'unknown';
  };
}
