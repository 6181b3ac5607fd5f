/** The address of the client behind a WebSocket (`ws`) or Socket.IO connection. */
export function socketAddress(client: unknown): string | undefined {
  const socket = client as { handshake?: { address?: string }; _socket?: { remoteAddress?: string } } | undefined;
  return socket?.handshake?.address ?? socket?._socket?.remoteAddress;
}
