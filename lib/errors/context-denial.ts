import type { ContextType, HttpException } from '@nestjs/common';
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

/**
 * Builds a denial without a stack trace: a denial is an expected answer, not a fault, and
 * capturing the stack is most of what constructing it costs (some 12 µs per 429).
 */
function withoutStack<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

async function inContext(type: ContextType, http: HttpException): Promise<Error> {
  const ErrorClass = await contextError(type);
  return ErrorClass ? withoutStack(() => new ErrorClass(http.getResponse() as object)) : http;
}

/** The 429 of a context: `RateLimitException` over HTTP, `WsException` or `RpcException` elsewhere, same body. */
export function rateLimitedError(type: ContextType, policy: string, retryAfter: number | null): Promise<Error> {
  return inContext(type, withoutStack(() => new RateLimitException(policy, retryAfter)));
}

/** The 503 of `failMode: 'closed'`, in the same shapes. */
export function unavailableError(type: ContextType, retryAfter: number): Promise<Error> {
  return inContext(type, withoutStack(() => new RateLimitUnavailableException(retryAfter)));
}
