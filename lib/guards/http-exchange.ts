import type { ExecutionContext } from '@nestjs/common';

/** The HTTP request and response behind a context, when there are any. */
export interface HttpExchange {
  request: Record<PropertyKey, unknown>;
  /** Absent for a GraphQL resolver whose context holds no response (Fastify's Apollo integration). */
  response: unknown;
}

type GraphqlContext = { req?: Record<PropertyKey, unknown>; res?: unknown } | undefined;

/**
 * An HTTP route's request and response, or a GraphQL resolver's: the `req` of its context
 * (where the GraphQL drivers put it) and `res`, else Express's `req.res`.
 */
export function httpExchange(context: ExecutionContext): HttpExchange | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    const http = context.switchToHttp();
    return { request: http.getRequest(), response: http.getResponse() };
  }
  if (type !== 'graphql') return undefined;
  const graphql = context.getArgByIndex<GraphqlContext>(2);
  const request = graphql?.req;
  if (typeof request !== 'object' || request === null) return undefined;
  return { request, response: graphql!.res ?? request.res };
}
