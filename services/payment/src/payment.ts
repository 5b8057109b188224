import { sql } from 'kysely';
import {
  DealStore,
  TicketVerifier,
  connectDatabase,
  connectRedis,
  createLogger,
  migrateToLatest,
  redisAnswers,
  type BuiltService,
  type ServiceOverrides,
  type TicketKeyring,
} from '@quickdeal/core';
import { createApp } from './app.js';
import { CheckoutSweeper } from './checkout-sweeper.js';
import type { PaymentConfig } from './config.js';
import { createPaymentMetrics, type PaymentMetrics } from './metrics.js';
import { OrderBook } from './order-book.js';
import { TestPaymentProvider } from './payment-provider.js';

export interface PaymentOverrides extends ServiceOverrides {
  /** The keys that verify tickets (main.ts loads them from the environment). */
  keyring: TicketKeyring;
  /** Which deals the sweeper sweeps: every deal in Redis unless narrowed (tests sharing one Redis). */
  sweptDealIds?: () => Promise<string[]>;
}

/** The payment service, and the parts tests look into. */
export interface Payment extends BuiltService {
  orders: OrderBook;
  provider: TestPaymentProvider;
  sweeper: CheckoutSweeper;
  metrics: PaymentMetrics;
}

/**
 * The payment service, wired from its configuration: connects to Redis and Postgres (migrating it
 * before this returns), builds the order book, the payment provider, the checkout sweeper and the
 * app. `start` starts the sweeper; `stop` lets its pass finish and closes the connections.
 */
export async function createPayment(config: PaymentConfig, overrides: PaymentOverrides): Promise<Payment> {
  const logger = overrides.logger ?? createLogger('payment', config.LOG_LEVEL);
  const clock = overrides.clock;
  const redis = connectRedis(config.REDIS_URL);
  const db = connectDatabase(config.DATABASE_URL, { maxConnections: config.DATABASE_POOL_SIZE });
  await migrateToLatest(db);
  const metrics = createPaymentMetrics();
  const store = new DealStore(redis);
  const orders = new OrderBook(db);
  const provider = new TestPaymentProvider(config.TEST_PAYMENT_OUTCOME);
  const sweeper = new CheckoutSweeper(
    { store, orders, metrics, logger, clock, dealIds: overrides.sweptDealIds },
    config.SWEEP_INTERVAL_MS,
  );
  const app = createApp({
    store,
    orders,
    provider,
    verifier: new TicketVerifier(overrides.keyring, { clock }),
    metrics,
    logger,
    paymentLeaseMs: config.PAYMENT_LEASE_MS,
    providerTimeoutMs: config.PAYMENT_TIMEOUT_MS,
    clock,
    readiness: async () => ({
      redis: await redisAnswers(redis),
      postgres: await sql`select 1`.execute(db).then(
        () => true,
        () => false,
      ),
    }),
    isShuttingDown: overrides.isShuttingDown,
  });

  return {
    app,
    orders,
    provider,
    sweeper,
    metrics,
    async start() {
      sweeper.start();
    },
    async stop() {
      try {
        await sweeper.stop();
      } finally {
        await db.destroy();
        await redis.quit();
      }
    },
  };
}
