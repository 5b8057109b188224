import { Gauge, type Registry } from 'prom-client';
import { ticketsWaiting, type DealStore, type Logger } from '@quickdeal/core';

/**
 * Each deal's line (`quickdeal_queue_waiting{deal}`), read from Redis when Prometheus scrapes.
 * Admission exports the same gauge, but admission may run zero pods, and then nothing would say
 * that shoppers wait: ticketing issues every ticket, so it runs whenever a line can grow, and the
 * series the consumers are scaled on (by the operator or KEDA) exists even at zero consumers.
 * One read serves all scrapes that arrive while it runs; a failed read keeps the last values.
 */
export function registerLineGauge(registry: Registry, source: { store: Pick<DealStore, 'dealIds' | 'snapshot'>; logger: Logger }): void {
  let reading: Promise<void> | undefined;
  const gauge = new Gauge({
    name: 'quickdeal_queue_waiting',
    help: 'Tickets in a deal’s line not yet processed',
    labelNames: ['deal'] as const,
    registers: [registry],
    collect: () => (reading ??= read().finally(() => (reading = undefined))),
  });

  async function read(): Promise<void> {
    try {
      const lines = await Promise.all(
        (await source.store.dealIds()).map(async (dealId) => {
          const deal = await source.store.snapshot(dealId);
          return deal.exists ? ([dealId, ticketsWaiting(deal)] as const) : undefined;
        }),
      );
      gauge.reset();
      for (const line of lines) if (line) gauge.set({ deal: line[0] }, line[1]);
    } catch (error) {
      source.logger.warn({ err: error }, 'could not read the deals’ lines');
    }
  }
}
