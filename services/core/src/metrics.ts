import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, with QuickDeal's metrics. Names follow the Prometheus naming guide. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'quickdeal_process_' });
  const registers = [registry];
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'quickdeal_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    ticketsIssued: new Counter({ name: 'quickdeal_tickets_issued_total', help: 'Tickets issued (answered 201)', labelNames: ['deal'] as const, registers }),
    ticketRequests: new Counter({
      name: 'quickdeal_ticket_requests_total',
      help: 'Ticket requests by result (created, existing, sold_out, not_open, closed, already_purchased, rate_limited, busy, unavailable)',
      labelNames: ['deal', 'result'] as const,
      registers,
    }),
    statusPolls: new Counter({ name: 'quickdeal_status_polls_total', help: 'Ticket status polls by answered status', labelNames: ['deal', 'status'] as const, registers }),
    produceBatchSize: new Histogram({
      name: 'quickdeal_ticket_produce_batch_size',
      help: 'Tickets sent to Kafka in one produce request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
    admissions: new Counter({ name: 'quickdeal_admissions_total', help: 'Shoppers admitted into checkout', labelNames: ['deal'] as const, registers }),
    admissionBlocks: new Counter({
      name: 'quickdeal_admission_blocks_total',
      help: 'Times the head of a deal’s line had to wait, by reason (stock, cap, paused, pending)',
      labelNames: ['deal', 'reason'] as const,
      registers,
    }),
    ticketsSkipped: new Counter({ name: 'quickdeal_tickets_skipped_total', help: 'Tickets skipped for good, by reason (expired, invalid)', labelNames: ['deal', 'reason'] as const, registers }),
    ticketsSoldOut: new Counter({ name: 'quickdeal_tickets_sold_out_total', help: 'Tickets that reached the head after the deal sold out', labelNames: ['deal'] as const, registers }),
    admissionBatchDuration: new Histogram({
      name: 'quickdeal_admission_batch_duration_seconds',
      help: 'Time to run one admission batch script',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    checkoutsExpired: new Counter({ name: 'quickdeal_checkouts_expired_total', help: 'Checkouts whose window passed unpaid; their units went back', labelNames: ['deal'] as const, registers }),
    checkoutsCancelled: new Counter({ name: 'quickdeal_checkouts_cancelled_total', help: 'Checkouts the shopper cancelled', labelNames: ['deal'] as const, registers }),
    sweeperRuns: new Counter({ name: 'quickdeal_sweeper_runs_total', help: 'Runs of the checkout sweeper', registers }),
    sweeperLastRun: new Gauge({ name: 'quickdeal_sweeper_last_run_timestamp_seconds', help: 'When the checkout sweeper last completed a run', registers }),
    orders: new Counter({
      name: 'quickdeal_orders_total',
      help: 'Payment attempts by result (paid, declined, timeout, unrecorded, fenced, expired, already_purchased, sold_out) and settled charges (refunded, voided)',
      labelNames: ['deal', 'result'] as const,
      registers,
    }),
    queueWaiting: new Gauge({ name: 'quickdeal_queue_waiting', help: 'Tickets in a deal’s line not yet processed', labelNames: ['deal'] as const, registers }),
    activeShoppers: new Gauge({ name: 'quickdeal_active_shoppers', help: 'Shoppers holding checkout access', labelNames: ['deal'] as const, registers }),
    activeShoppersCap: new Gauge({ name: 'quickdeal_active_shoppers_cap', help: 'The deal’s cap on shoppers holding checkout access', labelNames: ['deal'] as const, registers }),
    stockTotal: new Gauge({ name: 'quickdeal_stock_units', help: 'Units the deal sells in all', labelNames: ['deal'] as const, registers }),
    stockRemaining: new Gauge({ name: 'quickdeal_stock_remaining_units', help: 'Units not yet sold', labelNames: ['deal'] as const, registers }),
    stockSold: new Gauge({ name: 'quickdeal_stock_sold_units', help: 'Units sold', labelNames: ['deal'] as const, registers }),
    consumerLag: new Gauge({ name: 'quickdeal_consumer_lag_messages', help: 'Messages in a deal’s topic after the admission group’s committed offset', labelNames: ['deal'] as const, registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
