/**
 * The operator process: reads its configuration, then serves what operator-service.ts builds.
 * `main.js migrate` instead runs the Postgres migrations and exits (the chart's hook Job).
 */
import { createLogger, serviceMain } from '@quickdeal/core';
import { operatorConfigSchema } from './config.js';
import { migrateMain } from './migrate.js';
import { createOperatorService } from './operator-service.js';

const command = process.argv[2];
if (command === 'migrate') {
  process.exitCode = await migrateMain(process.env, createLogger('migrate'));
} else if (command !== undefined) {
  console.error(`operator: unknown command '${command}' (none serves the operator; 'migrate' runs the Postgres migrations)`);
  process.exitCode = 2;
} else {
  serviceMain({
    service: 'operator',
    configSchema: operatorConfigSchema,
    env: process.env,
    compose: (config, logger, serving) => createOperatorService(config, { ...serving, logger }),
  });
}
