export { createApp, type PaymentDeps } from './app.js';
export { CheckoutSweeper } from './checkout-sweeper.js';
export { paymentConfigSchema } from './config.js';
export { OrderBook } from './order-book.js';
export { TestPaymentProvider, type PaymentProvider, type TestOutcome } from './payment-provider.js';
