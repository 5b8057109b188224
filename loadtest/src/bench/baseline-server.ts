/**
 * Serves the benchmark's baselines (baseline-app.ts) in their own process, the way the services
 * serve (Hono on @hono/node-server), on PORT (0: any free port). Prints `listening <port>` once ready.
 */
import { serve } from '@hono/node-server';
import { createBaselineApp } from './baseline-app.js';

const app = await createBaselineApp();
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) =>
  console.log(`listening ${info.port}`),
);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));
