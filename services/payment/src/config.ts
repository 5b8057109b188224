import { z } from 'zod';
import { commonConfigSchema, shopperIdentityConfigShape } from '@quickdeal/core';

export const paymentConfigSchema = commonConfigSchema.omit({ KAFKA_BROKERS: true, KAFKA_CLIENT_ID: true, KAFKA_TOPIC_PREFIX: true }).extend({
  ...shopperIdentityConfigShape,
  PORT: z.coerce.number().int().min(0).max(65535).default(8082),
  PAYMENT_PROVIDER: z.enum(['test']).default('test'),
  TEST_PAYMENT_OUTCOME: z.enum(['approve', 'decline', 'timeout']).default('approve'),
  PAYMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PAYMENT_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(250),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
});
