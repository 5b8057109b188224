import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The pre-queue's verifiable draw. Before the open a secret seed is made and only its SHA-256
 * (the commitment) is published; at the open every pre-queued shopper's place follows from the
 * seed and their id alone: the shoppers sorted by HMAC-SHA256(seed, shopperId). After the draw
 * the seed is revealed, so anyone can check it against the commitment and recompute the order.
 */

/** A fresh secret seed (32 random bytes, hex). */
export function newDrawSeed(): string {
  return randomBytes(32).toString('hex');
}

/** The commitment published before the open: SHA-256 of the seed's bytes, hex. */
export function seedCommitment(seed: string): string {
  return createHash('sha256').update(Buffer.from(seed, 'hex')).digest('hex');
}

/** A shopper's draw key: HMAC-SHA256 keyed with the seed's bytes over the shopper id (UTF-8), hex. Lower goes first. */
export function drawKey(seed: string, shopperId: string): string {
  return createHmac('sha256', Buffer.from(seed, 'hex')).update(shopperId, 'utf8').digest('hex');
}

/** The pre-queued shoppers in drawn order (ties, which SHA-256 makes practically impossible, by shopper id). */
export function drawOrder(seed: string, shopperIds: Iterable<string>): string[] {
  const keyed = [...shopperIds].map((shopperId) => ({ shopperId, key: drawKey(seed, shopperId) }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.shopperId < b.shopperId ? -1 : 1));
  return keyed.map((k) => k.shopperId);
}

export interface DrawCheck {
  /** The revealed seed is the one committed before the open. */
  seedMatchesCommitment: boolean;
  /** The order recomputed from the seed and the shopper ids. */
  order: string[];
  /** Where the published order first differs from the recomputed one (undefined: it does not), when one is given. */
  firstMismatch: number | undefined;
}

/** Checks a draw: the seed against its commitment, and (given) a published order against the recomputed one. */
export function verifyDraw(input: {
  seed: string;
  commitment: string;
  shopperIds: Iterable<string>;
  publishedOrder?: string[];
}): DrawCheck {
  const expected = Buffer.from(seedCommitment(input.seed), 'hex');
  const given = Buffer.from(input.commitment, 'hex');
  const seedMatchesCommitment = /^[0-9a-f]{64}$/i.test(input.commitment) && timingSafeEqual(expected, given);
  const order = drawOrder(input.seed, input.shopperIds);
  let firstMismatch: number | undefined;
  if (input.publishedOrder) {
    const length = Math.max(order.length, input.publishedOrder.length);
    for (let i = 0; i < length && firstMismatch === undefined; i++) if (order[i] !== input.publishedOrder[i]) firstMismatch = i;
  }
  return { seedMatchesCommitment, order, firstMismatch };
}
