import { sql } from 'kysely';
import {
  shopperIdentityFromConfig,
  DealStore,
  TicketVerifier,
  connectDatabase,
  connectRedis,
  redisTopology,
  createLogger,
  migrateToLatest,
  redisAnswers,
  type BuiltService,
  type ServiceOverrides,
  type TicketKeyring,
} from '@quickdeal/core';
import { createApp } from './app.js';
import type { PaymentDeps } from './payment-deps.js';
import { CheckoutSweeper } from './checkout-sweeper.js';
import type { PaymentConfig } from './config.js';
import { createPaymentMetrics, type PaymentMetrics } from './metrics.js';
import { OrderBook } from './order-book.js';
import { PaymentAttempts } from './payment-attempts.js';
import type { PaymentFaults } from './payment-flow.js';
import { PaymentLedger, TestPaymentProvider } from './payment-provider.js';

export interface PaymentOverrides extends ServiceOverrides {
  /** The keys that verify tickets (main.ts loads them from the environment). */
  keyring: TicketKeyring;
  /** Which deals the sweeper sweeps: every deal in Redis unless narrowed (tests sharing one Redis). */
  sweptDealIds?: () => Promise<string[]>;
  /** Test seam: where a payment stops or stalls. */
  faults?: PaymentFaults;
}

/** The payment service, and the parts tests look into. */
export interface Payment extends BuiltService {
  /** What the app was built from (tests build a second app on it that stalls at a step). */
  deps: PaymentDeps;
  orders: OrderBook;
  attempts: PaymentAttempts;
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
  const redis = connectRedis(redisTopology(config));
  const db = connectDatabase(config.DATABASE_URL, { maxConnections: config.DATABASE_POOL_SIZE });
  await migrateToLatest(db);
  const metrics = createPaymentMetrics();
  const store = new DealStore(redis);
  const orders = new OrderBook(db);
  const attempts = new PaymentAttempts(db);
  const provider = new TestPaymentProvider(config.TEST_PAYMENT_OUTCOME, new PaymentLedger(config.TEST_PAYMENT_LEDGER));
  const sweeper = new CheckoutSweeper(
    {
      store,
      orders,
      attempts,
      provider,
      providerTimeoutMs: config.PAYMENT_TIMEOUT_MS,
      metrics,
      logger,
      clock,
      dealIds: overrides.sweptDealIds,
    },
    config.SWEEP_INTERVAL_MS,
  );
  const deps: PaymentDeps = {
    store,
    orders,
    attempts,
    provider,
    verifier: new TicketVerifier(overrides.keyring, { clock }),
    metrics,
    logger,
    identity: overrides.identity ?? shopperIdentityFromConfig(config, { clock }),
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
    faults: overrides.faults,
  };
  const app = createApp(deps);

  return {
    app,
    deps,
    orders,
    attempts,
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
