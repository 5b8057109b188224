import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A registry for one process's (or, in tests, one part's) metrics, labelled with its service, with
 * the process's own metrics unless told not to. Names follow the Prometheus naming guide.
 */
export function createRegistry(service: string, options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'quickdeal_process_' });
  return registry;
}

/** What every HTTP service exports; each service adds its own metrics to the registry. */
export function createServiceMetrics(service: string) {
  const registry = createRegistry(service);
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'quickdeal_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;

/** Counted by admission (checkouts it ends before deciding) and by payment (its sweeper, a late payment). */
export function checkoutsExpiredCounter(registry: Registry) {
  return new Counter({
    name: 'quickdeal_checkouts_expired_total',
    help: 'Checkouts whose window passed unpaid; their units went back',
    labelNames: ['deal'] as const,
    registers: [registry],
  });
}
