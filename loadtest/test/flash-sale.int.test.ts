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
      dealId,
      topic: room.registry.topicFor(dealId),
      store: room.store,
      db: room.db,
      kafka: room.kafka,
      pause: async () => void (await room.registry.apply(dealId, { ...spec, paused: true })),
    });
    if (process.env.FLASH_SALE_REPORT) console.log(formatReport(report));
    const broken = report.invariants.checks.filter((check) => check.violations > 0);
    expect(broken, formatReport(report)).toEqual([]);
    expect(report.invariants.figures).toMatchObject({ fifoViolations: 0, oversoldUnits: 0, lostTickets: 0 });
    expect(report.errors.unexpected, formatReport(report)).toBe(0);
    expect(report.invariants.figures.ticketsChecked).toBeGreaterThan(0);
  }, 180_000);
});
