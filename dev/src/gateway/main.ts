import { createGateway } from './gateway.js';

const port = Number(process.env.PORT ?? 8080);
// Each may list several replicas, comma-separated: the gateway balances across them.
const ticketing = process.env.TICKETING_URL?.split(',').filter(Boolean);
const payment = process.env.PAYMENT_URL?.split(',').filter(Boolean);
if (!ticketing?.length || !payment?.length) {
  console.error('gateway: TICKETING_URL and PAYMENT_URL must be set (comma-separated for several replicas)');
  process.exit(1);
}
const upstreamIdleTimeoutMs = process.env.UPSTREAM_IDLE_TIMEOUT_MS ? Number(process.env.UPSTREAM_IDLE_TIMEOUT_MS) : undefined;
const server = createGateway({ ticketing, payment }, { upstreamIdleTimeoutMs });
server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`gateway listening on ${port}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
