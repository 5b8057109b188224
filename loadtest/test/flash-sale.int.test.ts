import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamFor } from '@quickdeal/dev/gateway';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { planFor } from '../src/plan.js';
import { formatReport } from '../src/report.js';
import { runFlashSale } from '../src/run-flash-sale.js';
import { appTransport } from '../src/transport.js';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200, sweepIntervalMs: 100 });
});
afterAll(async () => {
  await room?.close();
});

describe('a small flash sale', () => {
  // Asserts the invariants only, never timings: a slow machine makes a slower sale, not a failure.
  it('keeps every invariant with 300 shoppers for 20 units, paying, cancelling and walking away', async () => {
    const plan = planFor(undefined, {
      shoppers: 300,
      arrivalRate: 300,
      arrivalProfile: 'spike',
      stock: 20,
      cap: 5,
      windowMs: 2_000,
      pay: 0.6,
      cancel: 0.2,
      decline: 0.2,
      thinkMs: [50, 400],
      maxDurationMs: 90_000,
      timeoutMs: 20_000,
      seed: 7,
    });
    const { dealId, spec } = await room.createDeal({ stock: plan.stock, admission: { maxActiveShoppers: plan.cap, checkoutWindow: '2s' } });
    const report = await runFlashSale({
      plan,
      transport: appTransport((path) => (upstreamFor(path) === 'payment' ? room.payment : room.ticketing)),
      runId: `fs-${room.id}`,
      deals: [
        {
          dealId,
          topic: room.registry.topicFor(dealId),
          pause: async () => void (await room.registry.apply(dealId, { ...spec, paused: true })),
        },
      ],
      store: room.store,
      db: room.db,
      kafka: room.kafka,
    });
    if (process.env.FLASH_SALE_REPORT) console.log(formatReport(report));
    const broken = report.invariants.checks.filter((check) => check.violations > 0);
    expect(broken, formatReport(report)).toEqual([]);
    expect(report.invariants.figures).toMatchObject({ fifoViolations: 0, oversoldUnits: 0, lostTickets: 0 });
    expect(report.errors.unexpected, formatReport(report)).toBe(0);
    expect(report.invariants.figures.ticketsChecked).toBeGreaterThan(0);
  }, 180_000);

  it('checks each of several deals opening together on its own: its own line, cap and stock', async () => {
    const plan = planFor(undefined, {
      shoppers: 300,
      arrivalRate: 300,
      arrivalProfile: 'spike',
      deals: 3,
      zipf: 1,
      stock: 8,
      cap: 3,
      windowMs: 2_000,
      pay: 0.7,
      cancel: 0.1,
      thinkMs: [50, 300],
      maxDurationMs: 90_000,
      timeoutMs: 20_000,
      seed: 11,
    });
    const deals = [];
    for (let k = 0; k < plan.deals; k++) {
      const { dealId, spec } = await room.createDeal({
        stock: plan.stock,
        admission: { maxActiveShoppers: plan.cap, checkoutWindow: '2s' },
      });
      deals.push({
        dealId,
        topic: room.registry.topicFor(dealId),
        pause: async () => void (await room.registry.apply(dealId, { ...spec, paused: true })),
      });
    }
    const report = await runFlashSale({
      plan,
      transport: appTransport((path) => (upstreamFor(path) === 'payment' ? room.payment : room.ticketing)),
      runId: `fs-deals-${room.id}`,
      deals,
      store: room.store,
      db: room.db,
      kafka: room.kafka,
    });
    if (process.env.FLASH_SALE_REPORT) console.log(formatReport(report));
    expect(report.deals.map((deal) => deal.dealId)).toEqual(deals.map((deal) => deal.dealId));
    expect(report.deals.reduce((sum, deal) => sum + deal.shoppers, 0)).toBe(plan.shoppers);
    const [hot, , tail] = report.deals;
    expect(hot?.shoppers).toBeGreaterThan(tail?.shoppers ?? Infinity); // Zipf: 55 %, 27 %, 18 %
    for (const deal of report.deals) {
      // Each deal's own tickets were checked against its own log, trail and stock.
      expect(
        deal.invariants.checks.filter((check) => check.violations > 0),
        formatReport(report),
      ).toEqual([]);
      expect(deal.ticketsAnswered).toBeGreaterThan(0);
      expect(deal.invariants.figures.ticketsChecked).toBeGreaterThanOrEqual(deal.ticketsAnswered);
      expect(deal.invariants.figures.ticketsChecked).toBeLessThanOrEqual(deal.shoppers);
      expect(deal.invariants.figures.maxActiveSampled).toBeLessThanOrEqual(plan.cap);
      expect(deal.sold).toBeLessThanOrEqual(plan.stock);
      expect(deal.stock).toBe(plan.stock);
      expect(deal.firstAdmissionS).not.toBeNull();
    }
    expect(report.invariants.ok, formatReport(report)).toBe(true);
    expect(report.invariants.figures.ticketsChecked).toBe(
      report.deals.reduce((sum, deal) => sum + deal.invariants.figures.ticketsChecked, 0),
    );
    expect(report.sale.stock).toBe(plan.stock * plan.deals);
    expect(report.errors.unexpected, formatReport(report)).toBe(0);
  }, 180_000);
});
