import { RequestMethod } from '@nestjs/common';

// Nest's own metadata keys for routes (stable across Nest 8-12; not exported from the package root).
const PATH = 'path';
const METHOD = 'method';
const VERSION = '__version__';

const joinPaths = (...parts: unknown[]) =>
  '/' + parts.flatMap((part) => (Array.isArray(part) ? part.join('|') : part ? [String(part)] : [])).map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');

/**
 * The default budget of a handler: HTTP method + path template (+ version) for a route,
 * the handler itself for anything else (gateways, resolvers, message handlers).
 */
export function routeScope(classRef: object, handler: object, where: string): string {
  const method = Reflect.getMetadata(METHOD, handler) as RequestMethod | undefined;
  if (method === undefined) return `handler ${where}`;
  const version = Reflect.getMetadata(VERSION, handler) ?? Reflect.getMetadata(VERSION, classRef);
  const path = joinPaths(Reflect.getMetadata(PATH, classRef), Reflect.getMetadata(PATH, handler));
  return `${RequestMethod[method]} ${path}${version === undefined ? '' : ` v${String(version)}`}`;
}
