import { loadServiceKeyring, serviceMain } from '@quickdeal/core';
import { ticketingConfigSchema } from './config.js';
import { createTicketing } from './ticketing.js';

serviceMain({
  service: 'ticketing',
  configSchema: ticketingConfigSchema,
  env: process.env,
  compose: async (config, logger, serving) =>
    createTicketing(config, { ...serving, logger, keyring: await loadServiceKeyring(process.env, logger) }),
});
