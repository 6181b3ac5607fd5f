// Loopback helpers shared by the scripts that start servers of their own (the demo, the starter
// apps' runner): everything listens on 127.0.0.1 only.
import { createConnection, createServer } from 'node:net';

export const HOST = '127.0.0.1';

export function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A free port, chosen by the OS. */
export function anyFreePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis server answers PING on `port` (within a second). */
export function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}
