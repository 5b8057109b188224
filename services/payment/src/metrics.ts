import { Counter, Gauge } from 'prom-client';
import { checkoutsExpiredCounter, createServiceMetrics } from '@quickdeal/core';

/** Payment's metrics: payment attempts, checkouts that ended, and the checkout sweeper's runs. */
export function createPaymentMetrics() {
  const metrics = createServiceMetrics('payment');
  const registers = [metrics.registry];
  return {
    ...metrics,
    orders: new Counter({
      name: 'quickdeal_orders_total',
      help: 'Payment attempts by result (paid, declined, timeout, unrecorded, fenced, expired, already_purchased, sold_out) and settled charges (refunded, voided)',
      labelNames: ['deal', 'result'] as const,
      registers,
    }),
    checkoutsExpired: checkoutsExpiredCounter(metrics.registry),
    checkoutsCancelled: new Counter({
      name: 'quickdeal_checkouts_cancelled_total',
      help: 'Checkouts the shopper cancelled',
      labelNames: ['deal'] as const,
      registers,
    }),
    sweeperRuns: new Counter({ name: 'quickdeal_sweeper_runs_total', help: 'Runs of the checkout sweeper', registers }),
    sweeperLastRun: new Gauge({
      name: 'quickdeal_sweeper_last_run_timestamp_seconds',
      help: 'When the checkout sweeper last completed a run',
      registers,
    }),
  };
}

export type PaymentMetrics = ReturnType<typeof createPaymentMetrics>;
