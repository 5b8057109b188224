import { Counter, Gauge, Histogram } from 'prom-client';
import { createRegistry } from '@quickdeal/core';

/** The operator's own metrics (one registry per operator, so two in one process never clash). */
export function createOperatorMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = createRegistry('operator', { processMetrics: options.processMetrics ?? false });
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: 'quickdeal_operator_reconciles_total',
      help: 'QuickDeal reconciles by result (success, error)',
      labelNames: ['result'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'quickdeal_operator_reconcile_duration_seconds',
      help: 'Time one QuickDeal reconcile took',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    workQueueDepth: new Gauge({ name: 'quickdeal_operator_work_queue_depth', help: 'QuickDeal keys waiting to be reconciled', registers }),
    deals: new Gauge({ name: 'quickdeal_operator_deals', help: 'QuickDeals the operator serves', registers }),
    leader: new Gauge({ name: 'quickdeal_operator_leader', help: '1 while this operator holds the leader election lease', registers }),
    admissionReplicas: new Gauge({
      name: 'quickdeal_operator_admission_replicas',
      help: 'Admission consumer replicas the operator last set or kept',
      registers,
    }),
    scalingEvaluations: new Counter({
      name: 'quickdeal_operator_scaling_evaluations_total',
      help: 'Scaling decisions by result (scaled, unchanged, prometheus_unavailable, deployment_missing, kubernetes_error)',
      labelNames: ['result'] as const,
      registers,
    }),
    ticketingMinReplicas: new Gauge({
      name: 'quickdeal_operator_ticketing_min_replicas',
      help: 'The minReplicas of the ticketing HorizontalPodAutoscaler, as the operator last set or found it',
      registers,
    }),
    ticketingRushEvaluations: new Counter({
      name: 'quickdeal_operator_ticketing_rush_evaluations_total',
      help: 'Looks at ticketing’s HPA ahead of and after openings, by result (raised, lowered, unchanged, hpa_missing, kubernetes_error)',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;
