/**
 * vitest globalSetup of the `integration` project: Kafka, Redis and Postgres of the `test` profile.
 * They stay running after the tests, so the next run starts in seconds; `quickdeal down --profile test` stops them.
 */
import { ensureInfra } from '../src/stack.js';
import { recordSetupFailure } from './setup-failure.js';

export default async function setup(): Promise<void> {
  await recordSetupFailure(async () => {
    await ensureInfra('test');
  });
}
