import type { ContextType } from '@nestjs/common';
import { RateLimitException } from './rate-limit.exception.js';
import { RateLimitUnavailableException } from './rate-limit-unavailable.exception.js';

type ErrorClass = new (error: object) => Error;

// Optional peers, loaded only when a denial happens in their context: an HTTP-only app never needs them.
const OPTIONAL: Partial<Record<ContextType, { module: string; name: string }>> = {
  ws: { module: '@nestjs/websockets', name: 'WsException' },
  rpc: { module: '@nestjs/microservices', name: 'RpcException' },
};

async function contextError(type: ContextType): Promise<ErrorClass | undefined> {
  const peer = OPTIONAL[type];
  if (!peer) return undefined;
  const module = (await import(peer.module)) as Record<string, ErrorClass>;
  return module[peer.name];
}

/** The 429 of a context: `RateLimitException` over HTTP, `WsException` or `RpcException` elsewhere, same body. */
export async function rateLimitedError(type: ContextType, policy: string, retryAfter: number | null): Promise<Error> {
  const http = new RateLimitException(policy, retryAfter);
  const ErrorClass = await contextError(type);
  return ErrorClass ? new ErrorClass(http.getResponse() as object) : http;
}

/** The 503 of `failMode: 'closed'`, in the same shapes. */
export async function unavailableError(type: ContextType, retryAfter: number): Promise<Error> {
  const http = new RateLimitUnavailableException(retryAfter);
  const ErrorClass = await contextError(type);
  return ErrorClass ? new ErrorClass(http.getResponse() as object) : http;
}
