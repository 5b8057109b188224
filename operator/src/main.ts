/** The operator process: reads its configuration, then serves what operator-service.ts builds. */
import { serviceMain } from '@quickdeal/core';
import { operatorConfigSchema } from './config.js';
import { createOperatorService } from './operator-service.js';

serviceMain({
  service: 'operator',
  configSchema: operatorConfigSchema,
  env: process.env,
  compose: (config, logger, serving) => createOperatorService(config, { ...serving, logger }),
});
