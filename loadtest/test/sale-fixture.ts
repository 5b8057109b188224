/** Hand-made sales for the invariant checker's unit tests. */
import type { AnsweredTicket, Evidence } from '../src/invariants.js';
import type { Truth } from '../src/truth.js';

export const hour = 3_600_000;
export const t0 = Date.parse('2026-12-01T10:00:00Z');

/**
 * A small sale that went right: stock 3, cap 2, five shoppers in line. s1 and s2 are admitted; s1
 * pays, s2 cancels; s3 and s4 are admitted and pay; s5 is told sold out.
 */
export function cleanSale(): { truth: Truth; answered: AnsweredTicket[]; evidence: () => Evidence } {
  const shoppers = ['s1', 's2', 's3', 's4', 's5'];
  const truth: Truth = {
    readAt: t0 + 60_000,
    postgres: {
      stock: 3,
      sold: 3,
      orders: [
        { shopperId: 's1', queueNumber: 1, createdAt: t0 + 2_000 },
        { shopperId: 's3', queueNumber: 3, createdAt: t0 + 4_000 },
        { shopperId: 's4', queueNumber: 4, createdAt: t0 + 5_000 },
      ],
    },
    redis: {
      stock: 3,
      sold: 3,
      available: 0,
      active: 0,
      served: 5,
      lastQueueNumber: 5,
      admitted: 4,
      purchased: 3,
      cancelled: 1,
      expired: 0,
      skipped: 0,
      soldOutTickets: 1,
    },
    admissions: [
      { queueNumber: 1, shopperId: 's1', admittedAt: t0 + 1_000 },
      { queueNumber: 2, shopperId: 's2', admittedAt: t0 + 1_001 },
      { queueNumber: 3, shopperId: 's3', admittedAt: t0 + 2_500 },
      { queueNumber: 4, shopperId: 's4', admittedAt: t0 + 3_000 },
    ],
    activeDeadlines: [],
    log: shoppers.map((shopperId, i) => ({
      queueNumber: i + 1,
      shopperId,
      jti: `jti-${shopperId}`,
      expiresAtMs: t0 + 2 * hour,
      valid: true,
    })),
    records: new Map([
      ['s1', { state: 'purchased', jti: 'jti-s1', queueNumber: 1, deadline: t0 + 61_000 }],
      ['s2', { state: 'expired', jti: 'jti-s2', queueNumber: 2, deadline: t0 + 61_001 }],
      ['s3', { state: 'purchased', jti: 'jti-s3', queueNumber: 3, deadline: t0 + 62_500 }],
      ['s4', { state: 'purchased', jti: 'jti-s4', queueNumber: 4, deadline: t0 + 63_000 }],
      ['s5', { state: 'soldout', jti: 'jti-s5', queueNumber: 5, deadline: undefined }],
    ]),
  };
  const statuses: Record<string, string[]> = {
    s1: ['ACCESS_DENIED', 'ACCESS_GRANTED', 'PURCHASED'],
    s2: ['ACCESS_DENIED', 'ACCESS_GRANTED'],
    s3: ['ACCESS_DENIED', 'ACCESS_GRANTED', 'PURCHASED'],
    s4: ['ACCESS_DENIED', 'ACCESS_GRANTED', 'PURCHASED'],
    s5: ['ACCESS_DENIED', 'ITEM_SOLD_OUT'],
  };
  const answered = shoppers.map((shopperId, i) => ({
    shopperId,
    queueNumber: i + 1,
    distinctTickets: 1,
    statuses: statuses[shopperId] ?? [],
  }));
  return { truth, answered, evidence: () => ({ cap: 2, truth, answered, activeSamples: [0, 2, 2, 1, 2, 0] }) };
}
