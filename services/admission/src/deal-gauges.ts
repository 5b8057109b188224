import { Gauge, type Registry } from 'prom-client';
import { ticketsWaiting, type DealStore, type Logger } from '@quickdeal/core';

/**
 * The per-deal gauges (waiting, active vs cap, stock, lag), read from Redis and Kafka when
 * Prometheus scrapes (prom-client `collect`), so they are never staler than the scrape itself.
 * One read serves every gauge of a scrape.
 */
export function registerDealGauges(
  registry: Registry,
  source: { store: Pick<DealStore, 'dealIds' | 'snapshot'>; lag: () => Promise<Map<string, number>>; logger: Logger },
): void {
  let reading: Promise<void> | undefined;
  const collect = () => (reading ??= read().finally(() => (reading = undefined)));
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['deal'] as const, registers: [registry], collect });
  const gauges = {
    queueWaiting: gauge('quickdeal_queue_waiting', 'Tickets in a deal’s line not yet processed'),
    activeShoppers: gauge('quickdeal_active_shoppers', 'Shoppers holding checkout access'),
    activeShoppersCap: gauge('quickdeal_active_shoppers_cap', 'The deal’s cap on shoppers holding checkout access'),
    stockTotal: gauge('quickdeal_stock_units', 'Units the deal sells in all'),
    stockRemaining: gauge('quickdeal_stock_remaining_units', 'Units not yet sold'),
    stockSold: gauge('quickdeal_stock_sold_units', 'Units sold'),
    consumerLag: gauge('quickdeal_consumer_lag_messages', 'Messages in a deal’s topic after the admission group’s committed offset'),
    prequeued: gauge('quickdeal_prequeued_shoppers', 'Shoppers who joined the deal’s pre-queue (0 for a deal without one)'),
  };
  const drawState = new Gauge({
    name: 'quickdeal_prequeue_draw_state',
    help: 'The pre-queue draw’s state: 1 for the current one of scheduled, drawing, done (deals with a pre-queue only)',
    labelNames: ['deal', 'state'] as const,
    registers: [registry],
    collect,
  });

  async function read(): Promise<void> {
    try {
      const [dealIds, lag] = await Promise.all([source.store.dealIds(), source.lag().catch(() => new Map<string, number>())]);
      for (const g of Object.values(gauges)) g.reset();
      drawState.reset();
      for (const dealId of dealIds) {
        const deal = await source.store.snapshot(dealId);
        if (!deal.exists) continue;
        const labels = { deal: dealId };
        gauges.queueWaiting.set(labels, ticketsWaiting(deal));
        gauges.activeShoppers.set(labels, deal.active);
        gauges.activeShoppersCap.set(labels, deal.cap);
        gauges.stockTotal.set(labels, deal.stock);
        gauges.stockRemaining.set(labels, Math.max(0, deal.stock - deal.sold));
        gauges.stockSold.set(labels, deal.sold);
        gauges.consumerLag.set(labels, lag.get(dealId) ?? 0);
        gauges.prequeued.set(labels, deal.prequeued);
        if (deal.draw) {
          for (const state of ['scheduled', 'drawing', 'done'] as const)
            drawState.set({ deal: dealId, state }, deal.draw.state === state ? 1 : 0);
        }
      }
    } catch (error) {
      source.logger.warn({ err: error }, 'could not read deal gauges');
    }
  }
}
