import { Hono } from 'hono';
import { installCommon, installProbes, type AppEnv, type Logger, type ServiceMetrics } from '@quickdeal/core';

/** The admission consumer's HTTP side: probes and metrics. */
export function createApp(deps: {
  metrics: ServiceMetrics;
  logger: Logger;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  installCommon(app, deps);
  installProbes(app, deps);
  return app;
}
