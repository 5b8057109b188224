/**
 * A waiting room's apps over real HTTP, behind the real local gateway, so a browser loads the
 * pages and calls the API from one origin exactly as through `quickdeal up`. Each server listens on
 * a free port of 127.0.0.1.
 */
import type { Server } from 'node:http';
import { createServiceServer, type ComposedService } from '@quickdeal/core';
import { createGateway } from '../gateway/gateway.js';

/** A service as the stack serves it: its app, and its node routes ahead of it as the running service has them. */
type ServedApp = Pick<ComposedService, 'app' | 'nodeRoutes'>;

export interface HttpStack {
  /** The gateway's origin, e.g. http://127.0.0.1:43121: open `${url}/deals/<dealId>`. */
  url: string;
  ticketingUrl: string;
  paymentUrl: string;
  close(): Promise<void>;
}

/** A service served on a free port of 127.0.0.1 as it runs, and the requests its node routes answered themselves (`METHOD url`). */
export interface ServedService {
  url: string;
  taken: string[];
  close(): Promise<void>;
}

/** Serves a service as runService does (its node routes ahead of its app), noting which requests the node routes took. */
export async function serveService(service: ServedApp): Promise<ServedService> {
  const taken: string[] = [];
  const { nodeRoutes } = service;
  const server = createServiceServer(
    {
      app: service.app,
      nodeRoutes: nodeRoutes
        ? (request, response) => {
            const took = nodeRoutes(request, response);
            if (took) taken.push(`${request.method} ${request.url}`);
            return took;
          }
        : undefined,
    },
    { hostname: '127.0.0.1' },
  );
  return { url: await listenLocally(server), taken, close: () => close(server) };
}

/** Listens on a free port of 127.0.0.1; resolves with the server's origin. */
export async function listenLocally(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
  return `http://127.0.0.1:${address.port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Serves a room's ticketing and payment (`room.services`, see waiting-room.ts) behind a gateway. */
export async function startHttpStack(room: { services: { ticketing: ServedApp; payment: ServedApp } }): Promise<HttpStack> {
  const ticketing = await serveService(room.services.ticketing);
  const payment = await serveService(room.services.payment);
  const gatewayServer = createGateway({ ticketing: ticketing.url, payment: payment.url });
  const gateway = { url: await listenLocally(gatewayServer), server: gatewayServer };
  return {
    url: gateway.url,
    ticketingUrl: ticketing.url,
    paymentUrl: payment.url,
    async close() {
      await close(gateway.server);
      await Promise.all([ticketing.close(), payment.close()]);
    },
  };
}
