import { z } from 'zod';
import { commonConfigSchema, shopperIdentityConfigShape } from '@quickdeal/core';

export const paymentConfigSchema = commonConfigSchema
  .omit({ KAFKA_BROKERS: true, KAFKA_CLIENT_ID: true, KAFKA_TOPIC_PREFIX: true })
  .extend({
    ...shopperIdentityConfigShape,
    PORT: z.coerce.number().int().min(0).max(65535).default(8082),
    TEST_PAYMENT_OUTCOME: z.enum(['approve', 'decline', 'timeout', 'timeout_after_charge']).default('approve'),
    /** The test provider's ledger as a file of JSON lines (shared by processes, kept across a kill); in memory when unset. */
    TEST_PAYMENT_LEDGER: z.string().min(1).optional(),
    PAYMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    PAYMENT_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(250),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  })
  // A provider that may answer after the lease lapsed would charge for a checkout already settled without it.
  .refine((config) => config.PAYMENT_TIMEOUT_MS < config.PAYMENT_LEASE_MS, {
    path: ['PAYMENT_TIMEOUT_MS'],
    message: 'must be less than PAYMENT_LEASE_MS, so the provider answers while the payment still holds the checkout',
  });
export type PaymentConfig = z.output<typeof paymentConfigSchema>;
