export { createApp, maxOrderBodyBytes, type PaymentDeps } from './app.js';
export { CheckoutSweeper } from './checkout-sweeper.js';
export { paymentConfigSchema } from './config.js';
export { OrderBook } from './order-book.js';
export { PaymentAttempts } from './payment-attempts.js';
export { type PaymentFaults, type PaymentStep } from './payment-flow.js';
export { PaymentLedger, TestPaymentProvider, type LedgerEntry, type PaymentProvider, type TestOutcome } from './payment-provider.js';
