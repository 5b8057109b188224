/**
 * A TCP forwarder a test opens and closes, to make a server (Postgres, Kafka) unreachable for one
 * client and bring it back without stopping it for everyone else. Closed, it accepts and at once
 * resets every connection (and resets those it was forwarding), as a server that went away does.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpGate {
  /** Where clients connect: 127.0.0.1:<port>. */
  port: number;
  open(): void;
  close(): void;
  stop(): Promise<void>;
}

export async function startTcpGate(target: { host: string; port: number }, options: { open?: boolean } = {}): Promise<TcpGate> {
  let open = options.open ?? true;
  const live = new Set<Socket>();
  const server = createServer((client) => {
    if (!open) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on('close', () => live.delete(socket));
      socket.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    open: () => {
      open = true;
    },
    close: () => {
      open = false;
      for (const socket of live) socket.resetAndDestroy();
    },
    stop: () => {
      open = false;
      for (const socket of live) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
