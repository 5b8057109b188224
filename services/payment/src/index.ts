export { createApp, type PaymentDeps } from './app.js';
export { CheckoutSweeper } from './checkout-sweeper.js';
export { paymentConfigSchema, type PaymentConfig } from './config.js';
export { createPaymentMetrics, type PaymentMetrics } from './metrics.js';
export { OrderBook } from './order-book.js';
export { createPayment, type Payment, type PaymentOverrides } from './payment.js';
export { TestPaymentProvider, type PaymentProvider, type TestOutcome } from './payment-provider.js';
