import { HttpException } from '@nestjs/common';
import { RateLimitException } from '../errors/rate-limit.exception.js';
import { RateLimitUnavailableException } from '../errors/rate-limit-unavailable.exception.js';
import { ResolverError } from './resolver-error.js';

type Body = { statusCode: number; message: string };
type ErrorFactory = (body: Body) => Error;

const INTERNAL_MESSAGE = 'Internal server error';

// Optional peers, loaded only when a denial happens in their context: an HTTP-only app never needs them.
const OPTIONAL: Record<string, { module: string; build: (module: Record<string, unknown>) => ErrorFactory }> = {
  ws: { module: '@nestjs/websockets', build: (m) => (body) => new (m.WsException as new (error: object) => Error)(transportBody(body)) },
  rpc: { module: '@nestjs/microservices', build: (m) => (body) => new (m.RpcException as new (error: object) => Error)(transportBody(body)) },
};

/** A resolver's error: the body in `extensions`, under a code; an internal error says nothing more. */
const resolverError: ErrorFactory = (body) => {
  if (body.statusCode === 500) return new ResolverError(INTERNAL_MESSAGE, { code: 'INTERNAL_SERVER_ERROR' });
  const code = body.statusCode === 429 ? 'RATE_LIMITED' : 'RATE_LIMITER_UNAVAILABLE';
  return new ResolverError(body.message, { code, ...body });
};

/** Gateways and microservices carry a denial's body as it is, and an internal error in their own error shape. */
const transportBody = (body: Body): object => (body.statusCode === 500 ? { status: 'error', message: INTERNAL_MESSAGE } : body);

async function contextError(type: string): Promise<ErrorFactory | undefined> {
  if (type === 'graphql') return resolverError;
  const peer = OPTIONAL[type];
  if (!peer) return undefined;
  return peer.build((await import(peer.module)) as Record<string, unknown>);
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

async function inContext(type: string, http: HttpException): Promise<Error> {
  const build = await contextError(type);
  return build ? withoutStack(() => build(http.getResponse() as Body)) : http;
}

/**
 * The 429 of a context: `RateLimitException` over HTTP; elsewhere `WsException`, `RpcException`
 * or a `ResolverError` that GraphQL answers as an error with `extensions.code` 'RATE_LIMITED',
 * with the same body.
 */
export function rateLimitedError(type: string, policy: string, retryAfter: number | null, message?: string): Promise<Error> {
  return inContext(type, withoutStack(() => new RateLimitException(policy, retryAfter, message)));
}

/** The 503 of `failMode: 'closed'`, in the same shapes. */
export function unavailableError(type: string, retryAfter: number): Promise<Error> {
  return inContext(type, withoutStack(() => new RateLimitUnavailableException(retryAfter)));
}

/**
 * The internal error of a context, with nothing of its cause: Nest's standard 500 body over HTTP
 * (an `HttpException`, so Nest does not log it again), `{ status: 'error', message }` in gateways
 * and microservices, a `ResolverError` with `extensions.code` 'INTERNAL_SERVER_ERROR' in resolvers
 * (neither is logged again by Nest).
 */
export function internalError(type: string): Promise<Error> {
  return inContext(type, withoutStack(() => new HttpException({ statusCode: 500, message: INTERNAL_MESSAGE }, 500)));
}
