import type { ExecutionContext } from '@nestjs/common';

/** The HTTP request and response behind a context, when there are any. */
export interface HttpExchange {
  request: Record<PropertyKey, unknown>;
  /** Absent for a GraphQL resolver whose context holds no response (Fastify's Apollo integration). */
  response: unknown;
}

type Request = Record<PropertyKey, unknown>;
type GraphqlContext = { req?: Request; res?: unknown } | undefined;

/** The HTTP request behind a context: an HTTP route's, or the `req` a GraphQL driver puts in a resolver's context. */
export function httpRequest(context: ExecutionContext): Request | undefined {
  const type = context.getType<string>();
  if (type === 'http') return context.switchToHttp().getRequest<Request>();
  if (type !== 'graphql') return undefined;
  const request = context.getArgByIndex<GraphqlContext>(2)?.req;
  return typeof request === 'object' && request !== null ? request : undefined;
}

/** The request and response of `httpRequest`: a resolver's response is its context's `res`, else Express's `req.res`. */
export function httpExchange(context: ExecutionContext): HttpExchange | undefined {
  const request = httpRequest(context);
  if (!request) return undefined;
  if (context.getType() === 'http') return { request, response: context.switchToHttp().getResponse() };
  return { request, response: context.getArgByIndex<NonNullable<GraphqlContext>>(2).res ?? request.res };
}
