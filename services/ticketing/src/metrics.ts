import { Counter, Histogram } from 'prom-client';
import { createServiceMetrics } from '@quickdeal/core';

/** Ticketing's metrics: tickets issued and asked for, polls, and the batches tickets go to Kafka in. */
export function createTicketingMetrics() {
  const metrics = createServiceMetrics('ticketing');
  const registers = [metrics.registry];
  return {
    ...metrics,
    ticketsIssued: new Counter({
      name: 'quickdeal_tickets_issued_total',
      help: 'Tickets issued (answered 201)',
      labelNames: ['deal'] as const,
      registers,
    }),
    unreplicatedWrites: new Counter({
      name: 'quickdeal_redis_unreplicated_writes_total',
      help: 'Writes answered before REDIS_WAIT_REPLICAS replicas confirmed them (a failover now could lose them), by write',
      labelNames: ['write'] as const,
      registers,
    }),
    ticketRequests: new Counter({
      name: 'quickdeal_ticket_requests_total',
      help: 'Ticket requests by result (created, prequeued, existing, drawing, sold_out, not_open, closed, already_purchased, rate_limited, busy, unavailable)',
      labelNames: ['deal', 'result'] as const,
      registers,
    }),
    admissions: new Counter({
      name: 'quickdeal_admissions_total',
      help: 'Shoppers admitted into checkout (here: WhenBusy deals, admitted in the ticket request itself)',
      labelNames: ['deal'] as const,
      registers,
    }),
    drawnShoppers: new Counter({
      name: 'quickdeal_prequeue_drawn_total',
      help: 'Pre-queued shoppers the draw placed in line at the open',
      labelNames: ['deal'] as const,
      registers,
    }),
    drawDuration: new Histogram({
      name: 'quickdeal_prequeue_draw_duration_seconds',
      help: 'Seconds from a deal’s open until its draw had placed every pre-queued shopper in line (observed by the process that placed the last batch)',
      labelNames: ['deal'] as const,
      buckets: [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    proofOfWorkVerifications: new Counter({
      name: 'quickdeal_proof_of_work_verifications_total',
      help: 'Proof-of-work solutions checked on ticket requests, by result (verified, missing, invalid, expired, foreign, replayed, error)',
      labelNames: ['deal', 'result'] as const,
      registers,
    }),
    statusPolls: new Counter({
      name: 'quickdeal_status_polls_total',
      help: 'Ticket status polls by answered status',
      labelNames: ['deal', 'status'] as const,
      registers,
    }),
    produceBatchSize: new Histogram({
      name: 'quickdeal_ticket_produce_batch_size',
      help: 'Tickets sent to Kafka in one produce request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
  };
}

export type TicketingMetrics = ReturnType<typeof createTicketingMetrics>;
