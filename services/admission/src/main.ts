import { serviceMain } from '@quickdeal/core';
import { createAdmission } from './admission.js';
import { admissionConfigSchema } from './config.js';

serviceMain({
  service: 'admission',
  configSchema: admissionConfigSchema,
  env: process.env,
  compose: (config, logger, serving) => createAdmission(config, { ...serving, logger }),
});
