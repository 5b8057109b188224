import { z } from 'zod';
import { commonConfigSchema, flag, shopperIdentityConfigShape } from '@quickdeal/core';

export const ticketingConfigSchema = commonConfigSchema.omit({ DATABASE_URL: true }).extend({
  ...shopperIdentityConfigShape,
  PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  TRUST_PROXY: flag(false),
  // Local development only: the pages offer "type a shopper id" (header mode on a loopback stack).
  PAGES_SHOPPER_ID_INPUT: flag(false),
  // 0: no limit.
  TICKETS_PER_SHOPPER_PER_MINUTE: z.coerce.number().int().min(0).default(10),
  POLLS_PER_SHOPPER_PER_10S: z.coerce.number().int().min(0).default(20),
  // Generous: many shoppers can share one address behind a carrier NAT.
  REQUESTS_PER_CLIENT_PER_SECOND: z.coerce.number().int().min(0).default(100),
  PRODUCE_LINGER_MS: z.coerce.number().min(0).max(50).default(1),
  PRODUCE_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(1000),
  DEAL_REFRESH_MS: z.coerce.number().int().min(20).max(5_000).default(250),
  // 0: no cache, every poll checks the ticket's signature.
  VERIFIED_TICKET_CACHE_SIZE: z.coerce.number().int().min(0).default(200_000),
  // Ticket requests one process works on at once (they make up its batches); the rest are asked to come back (429 BUSY). 0: no limit.
  MAX_TICKETS_IN_PROGRESS: z.coerce.number().int().min(0).default(256),
  // Signs proof-of-work challenges; every replica needs the same one (unset: one made per process).
  PROOF_OF_WORK_SECRET: z.string().min(32).optional(),
});
export type TicketingConfig = z.output<typeof ticketingConfigSchema>;
