import { IntrinsicException } from '@nestjs/common';

/**
 * What a resolver's denial (or internal error) throws. GraphQL makes a `GraphQLError` of any
 * error a resolver throws, with its message and its `extensions`, so clients see the same error
 * as if a `GraphQLError` had been thrown. Unlike a `GraphQLError`, it is an `IntrinsicException`
 * (as every `HttpException` is): Nest's exception handling, which logs any other error reaching
 * it from a resolver, leaves an expected answer unlogged. It carries no `response` or `status`,
 * so Apollo's translation of HTTP exceptions leaves its code alone.
 */
export class ResolverError extends IntrinsicException {
  constructor(
    message: string,
    readonly extensions: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}
