import type { ExecutionContext } from '@nestjs/common';

/** The HTTP request and response behind a context, when there are any. */
export interface HttpExchange {
  request: Record<PropertyKey, unknown>;
  /**
   * Where the headers go: Express's response, Fastify's reply, or a bare Node response (a
   * resolver context's `res: reply.raw` on Fastify). Absent for a resolver whose context holds
   * none (Apollo's default context on Fastify).
   */
  response: unknown;
}

type Request = Record<PropertyKey, unknown>;
type GraphqlContext = { req?: Request; res?: unknown; reply?: unknown } | undefined;

const objectOrUndefined = (value: unknown) => (typeof value === 'object' && value !== null ? value : undefined);

/**
 * An HTTP route's arguments are (request, response, next). Read by index: `switchToHttp()`
 * assigns three new closures to the context on every call.
 */
export const routeRequest = (context: ExecutionContext) => context.getArgByIndex<Request>(0);
export const routeResponse = (context: ExecutionContext) => context.getArgByIndex<unknown>(1);

/** The HTTP request behind a context: an HTTP route's, or the `req` a GraphQL driver puts in a resolver's context. */
export function httpRequest(context: ExecutionContext): Request | undefined {
  const type = context.getType<string>();
  if (type === 'http') return routeRequest(context);
  if (type !== 'graphql') return undefined;
  return objectOrUndefined(context.getArgByIndex<GraphqlContext>(2)?.req) as Request | undefined;
}

/**
 * The request and response of `httpRequest`. A resolver's response is its context's `reply`
 * (Mercurius puts Fastify's reply there; Apollo on Fastify has it when the context function
 * returns it), else its `res`, else Express's `req.res` (Apollo on Express).
 */
export function httpExchange(context: ExecutionContext): HttpExchange | undefined {
  const request = httpRequest(context);
  if (!request) return undefined;
  if (context.getType() === 'http') return { request, response: routeResponse(context) };
  const { reply, res } = context.getArgByIndex<NonNullable<GraphqlContext>>(2);
  return { request, response: objectOrUndefined(reply) ?? objectOrUndefined(res) ?? objectOrUndefined(request.res) };
}
