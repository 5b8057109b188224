import { sql } from 'kysely';
import {
  connectRedis,
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
import { PaymentAttempts } from './payment-attempts.js';
import { PaymentLedger, TestPaymentProvider } from './payment-provider.js';

const logger = createLogger('payment');

async function main() {
  const config = parseConfig(paymentConfigSchema, process.env);
  logger.level = config.LOG_LEVEL;
  const keyring = await loadServiceKeyring(process.env, logger);
  const redis = connectRedis(config.REDIS_URL);
  const db = connectDatabase(config.DATABASE_URL, { maxConnections: config.DATABASE_POOL_SIZE });
  await migrateToLatest(db);
  const metrics = createMetrics('payment');
  const store = new DealStore(redis);
  const orders = new OrderBook(db);
  const attempts = new PaymentAttempts(db);
  const provider = new TestPaymentProvider(config.TEST_PAYMENT_OUTCOME, new PaymentLedger(config.TEST_PAYMENT_LEDGER));
  const sweeper = new CheckoutSweeper({ store, orders, attempts, provider, providerTimeoutMs: config.PAYMENT_TIMEOUT_MS, metrics, logger }, config.SWEEP_INTERVAL_MS);
  let running: Awaited<ReturnType<typeof runService>> | undefined;
  const app = createApp({
    store,
    orders,
    attempts,
    provider,
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
