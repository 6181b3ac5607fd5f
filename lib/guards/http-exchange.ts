import type { ExecutionContext } from '@nestjs/common';

/** The HTTP request and response behind a context, when there are any. */
export interface HttpExchange {
  request: Record<PropertyKey, unknown>;
  response: unknown;
}

export function httpExchange(context: ExecutionContext): HttpExchange | undefined {
  if (context.getType() !== 'http') return undefined;
  const http = context.switchToHttp();
  return { request: http.getRequest(), response: http.getResponse() };
}
