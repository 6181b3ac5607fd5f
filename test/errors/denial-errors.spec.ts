import { describe, expect, it } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { rateLimitedError, unavailableError } from '../../lib/contexts/context-errors.js';
import { ResolverError } from '../../lib/contexts/resolver-error.js';

const bodyOf = (error: Error) => {
  if (error instanceof ResolverError) return error.extensions;
  return error instanceof HttpException ? error.getResponse() : (error as WsException | RpcException).getError();
};

describe.each([
  ['http', HttpException],
  ['ws', WsException],
  ['rpc', RpcException],
  ['graphql', ResolverError],
] as const)('denials in a %s context', (type, ErrorClass) => {
  it('carry the 429 and 503 bodies, and no stack trace (an expected answer, not a fault)', async () => {
    const limit = Error.stackTraceLimit;
    const denied = await rateLimitedError(type, 'per-minute', 7);
    const unavailable = await unavailableError(type, 2);

    expect(denied).toBeInstanceOf(ErrorClass);
    // Resolver errors carry the body in the extensions GraphQL answers with, under a code.
    const code = (value: string) => (type === 'graphql' ? { code: value } : {});
    expect(bodyOf(denied)).toEqual({ ...code('RATE_LIMITED'), statusCode: 429, message: 'Too Many Requests', policy: 'per-minute', retryAfter: 7 });
    expect(bodyOf(unavailable)).toEqual({ ...code('RATE_LIMITER_UNAVAILABLE'), statusCode: 503, message: 'Rate limiter unavailable', retryAfter: 2 });
    for (const error of [denied, unavailable]) expect(error.stack ?? '').not.toMatch(/\n\s+at /);
    // The limit is restored: other errors keep their stacks.
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });
});
