import { describe, expect, it } from 'vitest';
import {
  buildDealReport,
  combineInvariants,
  formatDealTable,
  mergeTruths,
  slowestToFirstAdmission,
  waitForFirstAdmissionS,
} from '../src/deal-report.js';
import type { ShopperRecord } from '../src/flash-sale.js';
import { checkInvariants } from '../src/invariants.js';
import { assignDeals, zipfShares } from '../src/popularity.js';
import { Random } from '../src/random.js';
import { cleanSale, t0 } from './sale-fixture.js';

describe("the deals' popularity", () => {
  it('follows Zipf: deal k draws 1/k^s of the crowd, the hot deal first', () => {
    const shares = zipfShares(20, 1);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    expect(shares[0]).toBeCloseTo(1 / 3.5977, 3); // 1 / H(20)
    expect(shares[19]).toBeCloseTo((shares[0] as number) / 20, 12);
    expect(shares.every((share, k) => k === 0 || share < (shares[k - 1] as number))).toBe(true);
    expect(zipfShares(4, 0)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('spreads the shoppers by those shares, the same crowd for the same seed', () => {
    const dealOf = assignDeals(100_000, 20, 1, new Random(3));
    const same = (other: Uint16Array) => Buffer.from(other.buffer).equals(Buffer.from(dealOf.buffer));
    expect(same(assignDeals(100_000, 20, 1, new Random(3)))).toBe(true);
    expect(same(assignDeals(100_000, 20, 1, new Random(4)))).toBe(false);
    const counts = new Array<number>(20).fill(0);
    for (const deal of dealOf) counts[deal] = (counts[deal] ?? 0) + 1;
    zipfShares(20, 1).forEach((share, k) => expect(Math.abs((counts[k] as number) / 100_000 - share)).toBeLessThan(0.005));
  });

  it('sends everyone to the one deal of a single-deal run, drawing nothing', () => {
    const random = new Random(9);
    expect([...assignDeals(5, 1, 1, random)]).toEqual([0, 0, 0, 0, 0]);
    expect(random.next()).toBe(new Random(9).next());
  });
});

const shopper = (dealId: string, arrivalMs: number, ticket = true): ShopperRecord => ({
  shopperId: `${dealId}-${arrivalMs}`,
  dealId,
  intent: 'pay',
  arrivalMs,
  ticket: ticket ? 'token' : undefined,
  prequeued: false,
  prequeueTicket: undefined,
  busyAnswers: 0,
  proofsSolved: 0,
  queueNumber: ticket ? 1 : undefined,
  created: ticket ? 1 : 0,
  distinctTickets: ticket ? 1 : 0,
  statuses: [],
  admittedSeenMs: undefined,
  outcome: 'purchased',
  endedMs: undefined,
});

describe('the per-deal report', () => {
  it('checks each deal on its own evidence: two clean deals hold, though their queue numbers overlap', () => {
    const [a, b] = [cleanSale(), cleanSale()];
    const combined = combineInvariants([
      { dealId: 'deal-a', invariants: checkInvariants(a.evidence()) },
      { dealId: 'deal-b', invariants: checkInvariants(b.evidence()) },
    ]);
    expect(combined.ok).toBe(true);
    expect(combined.figures.ticketsChecked).toBe(10);
    // Checked as one sale, the same two deals look broken: each deal numbers its queue from 1.
    const merged = checkInvariants({ ...a.evidence(), truth: mergeTruths([a.truth, b.truth]) });
    expect(merged.ok).toBe(false);
    expect(merged.figures.fifoViolations).toBeGreaterThan(0);
  });

  it('names the deal that broke an invariant, and only that one', () => {
    const [a, b] = [cleanSale(), cleanSale()];
    b.truth.admissions.reverse(); // deal b admitted its line backwards
    const deals = [
      { dealId: 'deal-a', invariants: checkInvariants(a.evidence()) },
      { dealId: 'deal-b', invariants: checkInvariants(b.evidence()) },
    ];
    const combined = combineInvariants(deals);
    expect(combined.ok).toBe(false);
    expect(deals[0]?.invariants.ok).toBe(true);
    expect(combined.figures.fifoViolations).toBe(deals[1]?.invariants.figures.fifoViolations);
    const fifo = combined.checks.find((check) => check.name === 'strict-fifo');
    expect(fifo?.examples.length).toBeGreaterThan(0);
    expect(fifo?.examples.every((example) => example.startsWith('deal-b: '))).toBe(true);
  });

  it("times each deal's first admission from the open and from its first shopper, and finds the slowest", () => {
    const startedAt = t0; // cleanSale admits its first shopper at t0 + 1 s
    const hot = buildDealReport({
      dealId: 'hot',
      startedAt,
      shoppers: [shopper('hot', 0), shopper('hot', 10), shopper('hot', 20, false)],
      truth: cleanSale().truth,
      invariants: checkInvariants(cleanSale().evidence()),
    });
    const late = cleanSale();
    for (const admission of late.truth.admissions) admission.admittedAt += 3_000;
    const tail = buildDealReport({
      dealId: 'tail',
      startedAt,
      shoppers: [shopper('tail', 2_500)],
      truth: late.truth,
      invariants: checkInvariants(late.evidence()),
    });
    expect(hot).toMatchObject({ shoppers: 3, ticketsAnswered: 2, stock: 3, sold: 3, admissions: 4, firstArrivalS: 0, firstAdmissionS: 1 });
    expect(tail).toMatchObject({ firstArrivalS: 2.5, firstAdmissionS: 4 });
    expect(waitForFirstAdmissionS(hot)).toBe(1);
    expect(waitForFirstAdmissionS(tail)).toBe(1.5);
    expect(slowestToFirstAdmission([hot, tail])?.dealId).toBe('tail');

    const idle = cleanSale();
    idle.truth.admissions = [];
    const stuck = buildDealReport({
      dealId: 'stuck',
      startedAt,
      shoppers: [shopper('stuck', 100)],
      truth: idle.truth,
      invariants: hot.invariants,
    });
    expect(waitForFirstAdmissionS(stuck)).toBe(Infinity);
    expect(slowestToFirstAdmission([hot, stuck, tail])?.dealId).toBe('stuck');
    const table = formatDealTable([hot, tail, stuck], 2);
    expect(table).toMatch(/^tail\s+1\s+1\s+3\/3\s+4\s+2\.50\s+4\.00\s+1\.50\s+0\s+2\/2/m);
    expect(table).toContain('slowest deal to its first admission: stuck, never admitted anyone');
  });
});
