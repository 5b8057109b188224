import { describe, expect, it } from 'vitest';
import { drawOrder, newDrawSeed, seedCommitment } from '@quickdeal/core';
import type { ShopperRecord } from '../src/flash-sale.js';
import { checkOpening, type PublishedDraw } from '../src/opening.js';
import { cleanSale, t0 } from './sale-fixture.js';

const seed = newDrawSeed();
const published: PublishedDraw = { state: 'done', commitment: seedCommitment(seed), seed, prequeued: 3 };

function shopper(shopperId: string, prequeued: boolean, arrivalMs: number): ShopperRecord {
  return {
    shopperId,
    dealId: 'd',
    intent: 'pay',
    arrivalMs,
    ticket: 't',
    prequeued,
    prequeueTicket: prequeued ? 'p' : undefined,
    busyAnswers: 0,
    proofsSolved: 0,
    queueNumber: undefined,
    created: 1,
    distinctTickets: 1,
    statuses: [],
    admittedSeenMs: undefined,
    outcome: 'purchased',
    endedMs: undefined,
  };
}

/** The clean sale's five shoppers, s1–s3 pre-queued (placed 1–3 in `order`) and s4, s5 after the open. */
function opening(order: string[]) {
  const { truth } = cleanSale();
  const numbers = new Map(order.map((id, i) => [id, i + 1]));
  for (const [id, qn] of numbers) {
    truth.log[qn - 1] = { ...(truth.log[qn - 1] as (typeof truth.log)[number]), shopperId: id };
    truth.records.set(id, { ...(truth.records.get(id) as NonNullable<ReturnType<typeof truth.records.get>>), queueNumber: qn });
  }
  // the admissions and orders follow the queue numbers
  truth.admissions = truth.admissions.map((a) => ({ ...a, shopperId: order[a.queueNumber - 1] ?? a.shopperId }));
  truth.postgres.orders = truth.postgres.orders.map((o) => ({ ...o, shopperId: order[o.queueNumber - 1] ?? o.shopperId }));
  const shoppers = [
    shopper('s1', true, 10),
    shopper('s2', true, 20),
    shopper('s3', true, 30),
    shopper('s4', false, 1_000),
    shopper('s5', false, 1_100),
  ];
  return { truth, shoppers };
}

const violations = (report: ReturnType<typeof checkOpening>) => Object.fromEntries(report.checks.map((c) => [c.name, c.violations]));

describe('the opening checks', () => {
  it('hold for a draw placed in the seed’s order', () => {
    const { truth, shoppers } = opening(drawOrder(seed, ['s1', 's2', 's3']));
    const report = checkOpening({ opensAt: t0, preOpenMs: 500, shoppers, truth, draw: published });
    expect(report, JSON.stringify(report.checks)).toMatchObject({ ok: true, prequeued: 3, drawn: 3, seedMatchesCommitment: true });
    expect(report.firstAdmissionS).toBe(1);
  });

  it('catch an order the seed does not give, a seed that is not the committed one, an unrevealed seed', () => {
    const right = drawOrder(seed, ['s1', 's2', 's3']);
    const { truth, shoppers } = opening([right[1], right[0], right[2]] as string[]);
    expect(violations(checkOpening({ opensAt: t0, preOpenMs: 500, shoppers, truth, draw: published }))['draw-order']).toBeGreaterThan(0);
    const ok = opening(right);
    const other = { ...published, seed: newDrawSeed() };
    expect(checkOpening({ opensAt: t0, preOpenMs: 500, ...ok, draw: other }).seedMatchesCommitment).toBe(false);
    expect(checkOpening({ opensAt: t0, preOpenMs: 500, ...ok, draw: { ...published, seed: null } }).ok).toBe(false);
  });

  it('catch a pre-queued shopper never placed, and a later arrival ahead of the draw', () => {
    const { truth, shoppers } = opening(drawOrder(seed, ['s1', 's2', 's3']));
    truth.records.set('s2', {
      ...(truth.records.get('s2') as NonNullable<ReturnType<typeof truth.records.get>>),
      state: 'prequeued',
      queueNumber: 0,
    });
    expect(violations(checkOpening({ opensAt: t0, preOpenMs: 500, shoppers, truth, draw: published }))['prequeue-placed-once']).toBe(1);
    const late = opening(drawOrder(seed, ['s1', 's2', 's3']));
    late.truth.records.set('s4', {
      ...(late.truth.records.get('s4') as NonNullable<ReturnType<typeof late.truth.records.get>>),
      queueNumber: 2,
    });
    expect(violations(checkOpening({ opensAt: t0, preOpenMs: 500, ...late, draw: published }))['behind-the-draw']).toBe(1);
  });
});
