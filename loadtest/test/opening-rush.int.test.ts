import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamFor } from '@quickdeal/dev/gateway';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { planFor } from '../src/plan.js';
import { formatReport } from '../src/report.js';
import { runFlashSale, type SaleDeal } from '../src/run-flash-sale.js';
import { appTransport } from '../src/transport.js';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200, sweepIntervalMs: 100 });
});
afterAll(async () => {
  await room?.close();
});

const transport = () => appTransport((path) => (upstreamFor(path) === 'payment' ? room.payment : room.ticketing));

async function saleDeal(spec: Parameters<WaitingRoom['createDeal']>[0]): Promise<SaleDeal> {
  const created = await room.createDeal(spec);
  return {
    dealId: created.dealId,
    topic: room.registry.topicFor(created.dealId),
    pause: async () => void (await room.registry.apply(created.dealId, { ...created.spec, paused: true })),
  };
}

/** The generator's sale of `plan` on a new deal of `spec`, in this room, through the apps in-process. */
async function runSale(plan: ReturnType<typeof planFor>, runId: string, spec: Parameters<typeof saleDeal>[0], opensAt?: number) {
  const deals = [await saleDeal(spec)];
  return runFlashSale({
    plan,
    transport: transport(),
    runId,
    deals,
    store: room.store,
    db: room.db,
    kafka: room.kafka,
    ...(opensAt === undefined ? {} : { opensAt }),
  });
}

describe('the opening-rush scenario, scaled down', () => {
  // Asserts invariants and the draw, never timings: a slow machine makes a slower opening, not a failure.
  it('pre-queues the early shoppers, draws them into line at the open by the published seed, and puts later arrivals behind', async () => {
    const plan = planFor('opening-rush', {
      shoppers: 240,
      preOpenMs: 5_000,
      arrivalRate: 120,
      stock: 20,
      cap: 5,
      windowMs: 2_000,
      thinkMs: [50, 300],
      maxDurationMs: 90_000,
      timeoutMs: 20_000,
      connections: 64,
      seed: 5,
    });
    const opensAt = Date.now() + 2_000 + plan.preOpenMs;
    const spec = {
      stock: plan.stock,
      opensAt: new Date(opensAt).toISOString(),
      admission: { maxActiveShoppers: plan.cap, checkoutWindow: '2s' },
      queue: { prequeue: '10s' },
    };
    const report = await runSale(plan, `rush-${room.id}`, spec, opensAt);
    if (process.env.FLASH_SALE_REPORT) console.log(formatReport(report));
    const opening = report.opening;
    expect(opening, formatReport(report)).toBeDefined();
    // half the shoppers came before the open; every one of them took a pre-queue ticket and was drawn
    expect(opening?.prequeued).toBe(120);
    expect(opening, JSON.stringify({ ...opening, checks: undefined })).toMatchObject({
      drawn: 120,
      publishedPrequeued: 120,
      drawState: 'done',
      seedRevealed: true,
      seedMatchesCommitment: true,
      busyAnswersToPrequeued: 0,
    });
    // (stray copies are allowed: on a starved machine the draw's lease may lapse and the next holder
    // writes the unplaced batch again; the checks below hold either way)
    expect(
      opening?.checks.map((check) => [check.name, check.violations]),
      formatReport(report),
    ).toEqual([
      ['prequeue-placed-once', 0],
      ['draw-order', 0],
      ['behind-the-draw', 0],
    ]);
    expect(
      report.invariants.checks.filter((check) => check.violations > 0),
      formatReport(report),
    ).toEqual([]);
    expect(report.invariants.ok).toBe(true);
    expect(report.errors.unexpected, formatReport(report)).toBe(0);
    // the pre-queued shoppers were placed first: the first admission is one of theirs, after the open
    expect(opening?.firstAdmissionS).not.toBeNull();
    expect(opening?.firstAdmissionS).toBeGreaterThanOrEqual(0);
    expect(report.answers.prequeue?.['200']).toBeGreaterThan(0);
  }, 120_000);

  it('solves a proof-of-work challenge for every ticket request when the deal asks for one', async () => {
    const plan = planFor(undefined, {
      shoppers: 60,
      arrivalRate: 60,
      stock: 10,
      cap: 5,
      windowMs: 2_000,
      thinkMs: [50, 300],
      maxDurationMs: 60_000,
      timeoutMs: 20_000,
      proofOfWork: 500,
      seed: 9,
    });
    const spec = {
      stock: plan.stock,
      admission: { maxActiveShoppers: plan.cap, checkoutWindow: '2s' },
      queue: { proofOfWork: { difficulty: plan.proofOfWork } },
    };
    const generatorReport = await runSale(plan, `pow-${room.id}`, spec);
    expect(generatorReport.invariants.ok, formatReport(generatorReport)).toBe(true);
    const ticketAnswers = generatorReport.answers.ticket ?? {};
    // no ticket request went without a solved challenge, and none was refused for its proof
    expect(Object.keys(ticketAnswers).filter((key) => key.startsWith('4') && !key.startsWith('410') && !key.startsWith('429'))).toEqual([]);
    expect(ticketAnswers['201']).toBe(60);
    expect(generatorReport.answers.challenge?.['200']).toBeGreaterThanOrEqual(60);
    expect(generatorReport.errors.unexpected).toBe(0);
  }, 90_000);
});
