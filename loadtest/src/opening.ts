import { verifyDraw } from '@quickdeal/core';
import type { ShopperRecord } from './flash-sale.js';
import type { InvariantCheck } from './invariants.js';
import { Check } from './invariants/sale.js';
import type { Truth } from './truth.js';

/** The deal's draw as `GET /api/v1/deals/{deal}/draw` publishes it. */
export interface PublishedDraw {
  state: string;
  commitment: string;
  seed: string | null;
  prequeued: number;
}

/** What a run with a pre-queue shows about the opening: the draw's invariants and the opening's times. */
export interface OpeningReport {
  opensAt: string;
  /** Shoppers the generator saw take a pre-queue ticket, and how many of them the draw placed. */
  prequeued: number;
  drawn: number;
  /** The draw's state and its own count of pre-queued shoppers, as published. */
  drawState: string;
  publishedPrequeued: number;
  seedRevealed: boolean;
  seedMatchesCommitment: boolean;
  /** Copies of drawn shoppers in the log beyond their placed one (a draw resumed after a crash writes a batch again; admission skips them). */
  strayCopies: number;
  /** 429 answers the pre-queued shoppers met, and how many of them met one (the goal is none). */
  busyAnswersToPrequeued: number;
  prequeuedWhoMetBusy: number;
  /** Seconds from the open to the first admission and to the last unit sold (null: none / not sold out). */
  firstAdmissionS: number | null;
  soldOutS: number | null;
  checks: InvariantCheck[];
  ok: boolean;
}

/**
 * Checks the opening of a deal with a pre-queue against the truth read back after the run:
 * - every pre-queued shopper placed in line exactly once (their record holds a queue number and
 *   the log's message at that number is theirs; further copies are strays no one was admitted by);
 * - the drawn order is the one the published seed gives (core's verifyDraw: the seed hashes to the
 *   commitment, and sorting the drawn shoppers by their queue numbers gives drawOrder's order);
 * - first come, first served after the draw: every drawn shopper is ahead of every shopper who
 *   took a ticket after the open (admission in queue-number order is the strict-FIFO invariant's).
 */
export function checkOpening(input: {
  opensAt: number;
  /** The open in the run's time (ms after its time zero): a shopper who arrived before it may have been pre-queued unbeknown to the generator (an answer lost). */
  preOpenMs: number;
  shoppers: ShopperRecord[];
  truth: Truth;
  draw: PublishedDraw;
}): OpeningReport {
  const { truth, draw, opensAt } = input;
  const prequeued = input.shoppers.filter((s) => s.prequeued);
  const placedOnce = new Check('prequeue-placed-once', 'Every pre-queued shopper is placed in line exactly once');
  const copies = new Map<string, number>();
  for (const entry of truth.log) if (entry.valid) copies.set(entry.shopperId, (copies.get(entry.shopperId) ?? 0) + 1);
  const logByQn = new Map(truth.log.map((entry) => [entry.queueNumber, entry]));
  const admittedByShopper = new Map<string, number[]>();
  for (const a of truth.admissions) admittedByShopper.set(a.shopperId, [...(admittedByShopper.get(a.shopperId) ?? []), a.queueNumber]);
  const drawn: Array<{ shopperId: string; queueNumber: number }> = [];
  let strayCopies = 0;
  for (const shopper of prequeued) {
    const record = truth.records.get(shopper.shopperId);
    if (!record || record.state === 'prequeued' || record.queueNumber <= 0) {
      placedOnce.fail(`${shopper.shopperId} was pre-queued but never placed (${record ? `record ${record.state}` : 'no record'})`);
      continue;
    }
    if (logByQn.get(record.queueNumber)?.shopperId !== shopper.shopperId) {
      placedOnce.fail(`${shopper.shopperId} holds queue number ${record.queueNumber}, which is not theirs in the log`);
      continue;
    }
    strayCopies += (copies.get(shopper.shopperId) ?? 1) - 1;
    const admittedAt = (admittedByShopper.get(shopper.shopperId) ?? []).filter((qn) => qn !== record.queueNumber);
    if (admittedAt.length > 0) placedOnce.fail(`${shopper.shopperId} was admitted at a copy, queue number ${admittedAt.join(', ')}`);
    drawn.push({ shopperId: shopper.shopperId, queueNumber: record.queueNumber });
  }

  const order = new Check('draw-order', 'The drawn order is the one the published seed gives (verify-draw)');
  drawn.sort((a, b) => a.queueNumber - b.queueNumber);
  let seedMatchesCommitment = false;
  if (draw.seed === null) {
    if (prequeued.length > 0) order.fail(`the seed was not revealed (draw ${draw.state})`);
  } else {
    const verified = verifyDraw({
      seed: draw.seed,
      commitment: draw.commitment,
      shopperIds: drawn.map((d) => d.shopperId),
      publishedOrder: drawn.map((d) => d.shopperId),
    });
    seedMatchesCommitment = verified.seedMatchesCommitment;
    if (!seedMatchesCommitment) order.fail(`the revealed seed does not hash to the commitment ${draw.commitment}`);
    if (verified.firstMismatch !== undefined) {
      const at = verified.firstMismatch;
      order.fail(
        `place ${at + 1} of the drawn: ${drawn[at]?.shopperId} in line, the seed puts ${verified.order[at]} there`,
        drawn.length - at,
      );
    }
  }

  const behind = new Check('behind-the-draw', 'First come, first served after the draw: every later arrival is behind every drawn shopper');
  const lastDrawn = drawn[drawn.length - 1]?.queueNumber ?? 0;
  for (const shopper of input.shoppers) {
    if (shopper.prequeued || shopper.arrivalMs < input.preOpenMs) continue;
    const record = truth.records.get(shopper.shopperId);
    if (record && record.queueNumber > 0 && record.queueNumber < lastDrawn) {
      behind.fail(
        `${shopper.shopperId} came after the open but got queue number ${record.queueNumber}, ahead of the draw's last (${lastDrawn})`,
      );
    }
  }

  const firstAdmission = truth.admissions.reduce((min, a) => Math.min(min, a.admittedAt), Infinity);
  const soldOut =
    truth.postgres.sold >= truth.postgres.stock && truth.postgres.orders.length > 0
      ? Math.max(...truth.postgres.orders.map((o) => o.createdAt))
      : undefined;
  const checks = [placedOnce.result(), order.result(), behind.result()];
  return {
    opensAt: new Date(opensAt).toISOString(),
    prequeued: prequeued.length,
    drawn: drawn.length,
    drawState: draw.state,
    publishedPrequeued: draw.prequeued,
    seedRevealed: draw.seed !== null,
    seedMatchesCommitment,
    strayCopies,
    busyAnswersToPrequeued: prequeued.reduce((sum, s) => sum + s.busyAnswers, 0),
    prequeuedWhoMetBusy: prequeued.filter((s) => s.busyAnswers > 0).length,
    firstAdmissionS: Number.isFinite(firstAdmission) ? Math.round(firstAdmission - opensAt) / 1000 : null,
    soldOutS: soldOut === undefined ? null : Math.round(soldOut - opensAt) / 1000,
    checks,
    ok: checks.every((check) => check.violations === 0),
  };
}

/** The opening as a person reads it. */
export function formatOpening(o: OpeningReport): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const s = (value: number | null, none: string) => (value === null ? none : `${value.toFixed(1)} s`);
  return [
    `opening at ${o.opensAt}: ${n(o.prequeued)} shoppers pre-queued (the draw counted ${n(o.publishedPrequeued)}), ${n(o.drawn)} drawn into line; draw ${o.drawState}, ` +
      `seed ${o.seedRevealed ? 'revealed' : 'NOT revealed'}${o.seedRevealed ? `, ${o.seedMatchesCommitment ? 'matches' : 'does NOT match'} its commitment` : ''}` +
      `${o.strayCopies > 0 ? `; ${n(o.strayCopies)} stray copies skipped` : ''}`,
    `  429s met by pre-queued shoppers: ${n(o.busyAnswersToPrequeued)} (${n(o.prequeuedWhoMetBusy)} shoppers; the goal is none)`,
    `  from the open: first admission after ${s(o.firstAdmissionS, '— (none)')}, sold out after ${s(o.soldOutS, '— (not sold out)')}`,
  ].join('\n');
}
