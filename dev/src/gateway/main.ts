import { serve } from '@hono/node-server';
import { createGateway } from './gateway.js';

const port = Number(process.env.PORT ?? 8080);
const ticketing = process.env.TICKETING_URL;
const payment = process.env.PAYMENT_URL;
if (!ticketing || !payment) {
  console.error('gateway: TICKETING_URL and PAYMENT_URL must be set');
  process.exit(1);
}
const server = serve({ fetch: createGateway({ ticketing, payment }).fetch, port, hostname: process.env.HOST ?? '127.0.0.1' }, (info) => {
  console.log(`gateway listening on ${info.port}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
