import { loadServiceKeyring, serviceMain } from '@quickdeal/core';
import { paymentConfigSchema } from './config.js';
import { createPayment } from './payment.js';

serviceMain({
  service: 'payment',
  configSchema: paymentConfigSchema,
  env: process.env,
  compose: async (config, logger, serving) =>
    createPayment(config, { ...serving, logger, keyring: await loadServiceKeyring(process.env, logger) }),
});
