import { Counter, Histogram } from 'prom-client';
import { checkoutsExpiredCounter, createServiceMetrics } from '@quickdeal/core';

/** Admission's counters; the per-deal gauges read on scrape are in deal-gauges.ts. */
export function createAdmissionMetrics() {
  const metrics = createServiceMetrics('admission');
  const registers = [metrics.registry];
  return {
    ...metrics,
    admissions: new Counter({
      name: 'quickdeal_admissions_total',
      help: 'Shoppers admitted into checkout',
      labelNames: ['deal'] as const,
      registers,
    }),
    admissionBlocks: new Counter({
      name: 'quickdeal_admission_blocks_total',
      help: 'Times the head of a deal’s line had to wait, by reason (stock, cap, rate, paused, pending)',
      labelNames: ['deal', 'reason'] as const,
      registers,
    }),
    ticketsSkipped: new Counter({
      name: 'quickdeal_tickets_skipped_total',
      help: 'Tickets skipped for good, by reason (expired, invalid)',
      labelNames: ['deal', 'reason'] as const,
      registers,
    }),
    ticketsSoldOut: new Counter({
      name: 'quickdeal_tickets_sold_out_total',
      help: 'Tickets that reached the head after the deal sold out',
      labelNames: ['deal'] as const,
      registers,
    }),
    logRewinds: new Counter({
      name: 'quickdeal_admission_log_rewinds_total',
      help: 'Times a deal’s log was read again because Redis had lost admissions (a failover to a replica that lagged)',
      labelNames: ['deal'] as const,
      registers,
    }),
    admissionBatchDuration: new Histogram({
      name: 'quickdeal_admission_batch_duration_seconds',
      help: 'Time to run one admission batch script',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    checkoutsExpired: checkoutsExpiredCounter(metrics.registry),
  };
}

export type AdmissionMetrics = ReturnType<typeof createAdmissionMetrics>;
