import { sql } from 'kysely';
import {
  connectRedis,
  redisTopology,
  redisAnswers,
  DealStore,
  TicketVerifier,
  connectDatabase,
  createLogger,
  createMetrics,
  loadServiceKeyring,
  migrateToLatest,
  parseConfig,
  runService,
  startService,
} from '@quickdeal/core';
import { createApp } from './app.js';
import { CheckoutSweeper } from './checkout-sweeper.js';
import { paymentConfigSchema } from './config.js';
import { OrderBook } from './order-book.js';
import { TestPaymentProvider } from './payment-provider.js';

const logger = createLogger('payment');

async function main() {
  const config = parseConfig(paymentConfigSchema, process.env);
  logger.level = config.LOG_LEVEL;
  const keyring = await loadServiceKeyring(process.env, logger);
  const redis = connectRedis(redisTopology(config));
  const db = connectDatabase(config.DATABASE_URL, { maxConnections: config.DATABASE_POOL_SIZE });
  await migrateToLatest(db);
  const metrics = createMetrics('payment');
  const store = new DealStore(redis);
  const orders = new OrderBook(db);
  const sweeper = new CheckoutSweeper({ store, orders, metrics, logger }, config.SWEEP_INTERVAL_MS);
  let running: Awaited<ReturnType<typeof runService>> | undefined;
  const app = createApp({
    store,
    orders,
    provider: new TestPaymentProvider(config.TEST_PAYMENT_OUTCOME),
    verifier: new TicketVerifier(keyring),
    metrics,
    logger,
    paymentLeaseMs: config.PAYMENT_LEASE_MS,
    providerTimeoutMs: config.PAYMENT_TIMEOUT_MS,
    readiness: async () => ({
      redis: (await redisAnswers(redis)),
      postgres: await sql`select 1`.execute(db).then(() => true, () => false),
    }),
    isShuttingDown: () => running?.isShuttingDown() ?? false,
  });
  running = await runService({
    app,
    config,
    logger,
    onShutdown: async () => {
      await sweeper.stop();
      await db.destroy();
      await redis.quit();
    },
  });
  sweeper.start();
}

startService('payment', logger, main);
