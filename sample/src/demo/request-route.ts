import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What Express adds to a request that the demo reads: the matched route's path template. */
type ExpressRequest = IncomingMessage & { route?: { path?: unknown }; path?: string };

/**
 * `onDecision` events name the policy and the hashed client, not the route: the request being
 * decided is carried through its own async context so that the demo's log and counts can say
 * which route decided it.
 */
const current = new AsyncLocalStorage<ExpressRequest>();

/** Express middleware: runs the rest of the request inside its own context. */
export function carryRequest(req: IncomingMessage, _res: ServerResponse, next: () => void): void {
  current.run(req, next);
}

/** `GET /api/items` for the request being decided, or `undefined` outside a request. */
export function currentRoute(): string | undefined {
  const req = current.getStore();
  if (!req) return undefined;
  const path = req.route?.path;
  return `${req.method} ${typeof path === 'string' ? path : (req.path ?? req.url)}`;
}
