import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Listens on 127.0.0.1 (port 0: any free one) and gives the port. */
export async function listenLocal(server: Server, port: number, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') {
    throw new Error(`${what}: no TCP address`);
  }
  return address.port;
}

/** Tracks the server's sockets, so that `closeServer` can cut even a hanging reply. */
export function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Closes the server now, cutting open connections instead of waiting for them. */
export async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) {
    socket.destroy();
  }
  await closed;
}
