import { z } from 'zod';
import { isDuration, parseDuration } from './duration.js';
import { dealIdPattern } from './topics.js';

const duration = (description: string) =>
  z
    .string()
    .max(64)
    .regex(/^(\d+(\.\d+)?(ms|s|m|h|d))+$/, 'must be a duration such as 20m, 90s or 1h30m')
    .describe(description);

const timestamp = (description: string) =>
  z.iso
    .datetime({ offset: true, message: 'must be an RFC 3339 timestamp with a time zone, such as 2026-12-01T10:00:00+09:00' })
    .max(64)
    .describe(description);

/** Postgres keeps stock and durations (in milliseconds) as 32-bit integers: 24d fits, 25d does not. */
export const specLimits = { stock: 2_147_483_647, durationMs: 24 * 86_400_000, durationText: '24d' } as const;

/**
 * The one schema of a QuickDeal's spec. The CRD's OpenAPI schema is generated from it, the
 * local `quickdeal apply` validates with it, and the deal registry takes its output.
 */
export const quickDealSpecSchema = z
  .object({
    product: z
      .object({
        name: z.string().min(1).max(200).describe('What is on sale, as shoppers see it'),
        price: z.number().int().min(0).describe('Price in the currency’s minor unit (KRW has none)'),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as KRW')
          .describe('ISO 4217 currency code'),
      })
      .strict()
      .describe('What is on sale and its price'),
    stock: z.number().int().min(0).max(specLimits.stock).describe('Units for sale; may grow, never below what was sold'),
    opensAt: timestamp('When shoppers may start taking tickets'),
    closesAt: timestamp('When the deal stops taking tickets (optional)').optional(),
    admission: z
      .object({
        maxActiveShoppers: z.number().int().min(1).max(1_000_000).default(1000).describe('Cap: shoppers holding checkout access at once'),
        checkoutWindow: duration('Time an admitted shopper has to pay').default('20m'),
        maxAdmissionsPerMinute: z
          .number()
          .int()
          .min(1)
          .max(6_000_000)
          .optional()
          .describe('Inflow rate: shoppers let into checkout per minute at most, even when slots are free (optional)'),
      })
      .strict()
      .default({ maxActiveShoppers: 1000, checkoutWindow: '20m' })
      .describe('How many shoppers may check out at once, and for how long'),
    queue: z
      .object({
        ticketTTL: duration('How long a ticket stays valid while waiting').default('2h'),
        mode: z
          .enum(['Always', 'WhenBusy'])
          .default('Always')
          .describe('Always: every shopper takes a place in line; WhenBusy: admitted at once while nobody waits and a slot is free'),
        prequeue: duration('How long before opensAt shoppers may join a pre-queue whose order is drawn at the open (optional)').optional(),
        proofOfWork: z
          .object({
            difficulty: z
              .number()
              .int()
              .min(1)
              .max(10_000_000)
              .describe('Average SHA-256 rounds a ticket request costs the shopper’s device on a quiet deal'),
            maxDifficulty: z
              .number()
              .int()
              .min(1)
              .max(10_000_000)
              .optional()
              .describe('The difficulty rises with the line up to this (default: 10 × difficulty)'),
          })
          .strict()
          .optional()
          .describe('A proof-of-work challenge on every ticket request, a cost for bots (optional)'),
      })
      .strict()
      .default({ ticketTTL: '2h', mode: 'Always' })
      .describe('The waiting line: how long a ticket stays valid, when the line forms, the opening'),
    paused: z.boolean().default(false).describe('Stop admitting while true; the line keeps its order'),
    deletionPolicy: z
      .enum(['Retain', 'Delete'])
      .default('Retain')
      .describe('What happens to the deal’s Kafka topic when the QuickDeal is deleted (orders are always kept)'),
  })
  .strict()
  .refine((spec) => !spec.closesAt || Date.parse(spec.opensAt) < Date.parse(spec.closesAt), {
    message: 'opensAt must be before closesAt',
    path: ['closesAt'],
  })
  .refine((spec) => isDuration(spec.admission.checkoutWindow) && parseDuration(spec.admission.checkoutWindow) >= 1_000, {
    message: 'checkoutWindow must be at least 1s',
    path: ['admission', 'checkoutWindow'],
  })
  .refine((spec) => parseDuration(spec.queue.ticketTTL) >= 1_000, {
    message: 'ticketTTL must be at least 1s',
    path: ['queue', 'ticketTTL'],
  })
  .refine((spec) => !isDuration(spec.admission.checkoutWindow) || parseDuration(spec.admission.checkoutWindow) <= specLimits.durationMs, {
    message: `checkoutWindow must be at most ${specLimits.durationText}`,
    path: ['admission', 'checkoutWindow'],
  })
  .refine((spec) => !isDuration(spec.queue.ticketTTL) || parseDuration(spec.queue.ticketTTL) <= specLimits.durationMs, {
    message: `ticketTTL must be at most ${specLimits.durationText}`,
    path: ['queue', 'ticketTTL'],
  })
  .refine((spec) => spec.queue.prequeue === undefined || !isDuration(spec.queue.prequeue) || parseDuration(spec.queue.prequeue) >= 1_000, {
    message: 'prequeue must be at least 1s',
    path: ['queue', 'prequeue'],
  })
  .refine(
    (spec) =>
      spec.queue.prequeue === undefined || !isDuration(spec.queue.prequeue) || parseDuration(spec.queue.prequeue) <= specLimits.durationMs,
    {
      message: `prequeue must be at most ${specLimits.durationText}`,
      path: ['queue', 'prequeue'],
    },
  );

export type QuickDealSpec = z.output<typeof quickDealSpecSchema>;
export type QuickDealSpecInput = z.input<typeof quickDealSpecSchema>;

export const dealIdSchema = z
  .string()
  .max(200)
  .regex(dealIdPattern, 'must be a lowercase name of letters, digits and dashes (it names the Kafka topic), at most 63 characters');

/** A deal as the services run it: the spec resolved into plain numbers. */
export interface DealSettings {
  id: string;
  productName: string;
  price: number;
  currency: string;
  stock: number;
  opensAt: number;
  closesAt: number | null;
  cap: number;
  windowMs: number;
  ticketTtlMs: number;
  paused: boolean;
  queueMode: QueueMode;
  /** Shoppers let into checkout per minute at most; null: as fast as slots free up. */
  maxAdmissionsPerMinute: number | null;
  /** How long before opensAt the pre-queue opens; 0: no pre-queue. */
  prequeueMs: number;
  /** A proof-of-work challenge on ticket requests: its difficulty, rising with the line up to the max; null: none. */
  proofOfWork: { difficulty: number; maxDifficulty: number } | null;
}

export type QueueMode = 'Always' | 'WhenBusy';

export function settingsFromSpec(id: string, spec: QuickDealSpec): DealSettings {
  return {
    id,
    productName: spec.product.name,
    price: spec.product.price,
    currency: spec.product.currency,
    stock: spec.stock,
    opensAt: Date.parse(spec.opensAt),
    closesAt: spec.closesAt ? Date.parse(spec.closesAt) : null,
    cap: spec.admission.maxActiveShoppers,
    windowMs: parseDuration(spec.admission.checkoutWindow),
    ticketTtlMs: parseDuration(spec.queue.ticketTTL),
    paused: spec.paused,
    queueMode: spec.queue.mode,
    maxAdmissionsPerMinute: spec.admission.maxAdmissionsPerMinute ?? null,
    prequeueMs: spec.queue.prequeue ? parseDuration(spec.queue.prequeue) : 0,
    proofOfWork: spec.queue.proofOfWork
      ? {
          difficulty: spec.queue.proofOfWork.difficulty,
          maxDifficulty: spec.queue.proofOfWork.maxDifficulty ?? spec.queue.proofOfWork.difficulty * 10,
        }
      : null,
  };
}

/** Formats zod issues as `path: message; path: message` for one clear line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
