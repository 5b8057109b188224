import type { DealStore, Logger, Metrics } from '@quickdeal/core';
import type { AdmissionConsumer } from './admission-consumer.js';

/**
 * Fills the per-deal gauges (waiting, active vs cap, stock, lag) from Redis and Kafka just
 * before each scrape, so they are never staler than the scrape itself.
 */
export function installDealGauges(deps: { metrics: Metrics; store: DealStore; consumer: AdmissionConsumer; logger: Logger }): void {
  const { metrics, store, consumer } = deps;
  const gauges = [metrics.queueWaiting, metrics.activeShoppers, metrics.activeShoppersCap, metrics.stockTotal, metrics.stockRemaining, metrics.stockSold, metrics.consumerLag];
  let refreshing: Promise<void> | undefined;
  const refresh = () =>
    (refreshing ??= (async () => {
      try {
        const [dealIds, lag] = await Promise.all([store.dealIds(), consumer.lag().catch(() => new Map<string, number>())]);
        for (const gauge of gauges) gauge.reset();
        for (const dealId of dealIds) {
          const deal = await store.snapshot(dealId);
          if (!deal.exists) continue;
          const labels = { deal: dealId };
          metrics.queueWaiting.set(labels, Math.max(0, deal.lastQueueNumber - deal.served));
          metrics.activeShoppers.set(labels, deal.active);
          metrics.activeShoppersCap.set(labels, deal.cap);
          metrics.stockTotal.set(labels, deal.stock);
          metrics.stockRemaining.set(labels, Math.max(0, deal.stock - deal.sold));
          metrics.stockSold.set(labels, deal.sold);
          metrics.consumerLag.set(labels, lag.get(dealId) ?? 0);
        }
      } catch (error) {
        deps.logger.warn({ err: error }, 'could not read deal gauges');
      }
    })().finally(() => (refreshing = undefined)));
  const originalMetrics = metrics.registry.metrics.bind(metrics.registry);
  metrics.registry.metrics = async () => {
    await refresh();
    return originalMetrics();
  };
}
