import type { Clock, DealStore, Logger, TicketVerifier, ShopperIdentity } from '@quickdeal/core';
import type { PaymentMetrics } from './metrics.js';
import type { OrderBook } from './order-book.js';
import type { PaymentAttempts } from './payment-attempts.js';
import type { PaymentFaults } from './payment-flow.js';
import type { PaymentProvider } from './payment-provider.js';

/** What payment's routes work with; createPayment (payment.ts) wires them. */
export interface PaymentDeps {
  store: DealStore;
  orders: OrderBook;
  attempts: PaymentAttempts;
  provider: PaymentProvider;
  verifier: TicketVerifier;
  metrics: PaymentMetrics;
  logger: Logger;
  /** Who the shopper is: the shop's session token, or X-User-Id from a trusted gateway. */
  identity: ShopperIdentity;
  clock?: Clock;
  /** How long a payment may take before the sweeper may settle its checkout without it. */
  paymentLeaseMs: number;
  /** How long the provider may take to answer. */
  providerTimeoutMs: number;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
  /** Test seam: where a payment stops or stalls (see PaymentFaults). */
  faults?: PaymentFaults;
}
