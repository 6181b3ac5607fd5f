import type { ExecutionContext } from '@nestjs/common';
import { httpRequest } from './http-exchange.js';

type SocketClient = { handshake?: { address?: string }; _socket?: { remoteAddress?: string } } | undefined;

/**
 * The client's address as the transport sees it: the HTTP adapter's `req.ip` (which honours its
 * trust-proxy setting) for routes and GraphQL resolvers, the socket's address for `ws` and
 * Socket.IO gateways; microservice messages have none.
 */
export function clientAddress(context: ExecutionContext): string | undefined {
  if (context.getType() === 'ws') {
    const socket = context.switchToWs().getClient<SocketClient>();
    return socket?.handshake?.address ?? socket?._socket?.remoteAddress;
  }
  const ip = httpRequest(context)?.ip;
  return typeof ip === 'string' ? ip : undefined;
}
