import { Hono } from 'hono';
import type { Registry } from 'prom-client';

/** /healthz (alive, and renewing its Lease if it leads), /readyz (its servers answer) and /metrics. */
export function createProbeApp(deps: {
  registry: Registry;
  healthy: () => boolean;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown: () => boolean;
  leader: () => boolean;
}): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => {
    const healthy = deps.healthy();
    return c.json({ status: healthy ? 'ok' : 'lease_not_renewed', leader: deps.leader() }, healthy ? 200 : 503);
  });
  app.get('/readyz', async (c) => {
    const checks = await deps.readiness().catch(() => ({ dependencies: false }));
    const ready = Object.values(checks).every(Boolean) && !deps.isShuttingDown();
    return c.json({ status: ready ? 'ready' : 'not_ready', leader: deps.leader(), checks }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.registry.contentType);
    return c.body(await deps.registry.metrics());
  });
  return app;
}
