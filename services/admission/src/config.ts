import { z } from 'zod';
import { commonConfigSchema } from '@quickdeal/core';

export const admissionConfigSchema = commonConfigSchema.omit({ DATABASE_URL: true }).extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8083),
  ADMISSION_GROUP_ID: z.string().min(1).default('quickdeal-admission'),
  ADMISSION_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  ADMISSION_BACKOFF_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  TOPIC_REFRESH_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  CONCURRENT_DEALS: z.coerce.number().int().min(1).max(64).default(4),
});
export type AdmissionConfig = z.output<typeof admissionConfigSchema>;
