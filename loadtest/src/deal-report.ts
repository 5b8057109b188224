import { formatTable } from '@quickdeal/dev/table';
import type { ShopperRecord } from './flash-sale.js';
import type { InvariantCheck, InvariantReport } from './invariants.js';
import type { Truth } from './truth.js';

/** One deal of a run with several: who came for it, what it sold, how soon it admitted, and its own invariants. */
export interface DealReport {
  dealId: string;
  shoppers: number;
  /** Shoppers the generator saw answered with a ticket. */
  ticketsAnswered: number;
  stock: number;
  sold: number;
  admissions: number;
  /** Seconds from the open (the run's time zero; every deal opens together) to its first shopper's arrival, and to its first admission. */
  firstArrivalS: number | null;
  firstAdmissionS: number | null;
  /** Checked on this deal's evidence alone: queue numbers, the cap and the stock are the deal's own. */
  invariants: InvariantReport;
}

export function buildDealReport(input: {
  dealId: string;
  /** Epoch ms of the run's time zero. */
  startedAt: number;
  /** The shoppers who came for this deal. */
  shoppers: ShopperRecord[];
  truth: Truth;
  invariants: InvariantReport;
}): DealReport {
  const { shoppers, truth, startedAt } = input;
  const seconds = (ms: number) => Math.round(ms) / 1000;
  const firstArrivalMs = shoppers.reduce((first, s) => (s.outcome === 'dropped' ? first : Math.min(first, s.arrivalMs)), Infinity);
  const firstAdmittedAt = truth.admissions.reduce((first, a) => Math.min(first, a.admittedAt), Infinity);
  return {
    dealId: input.dealId,
    shoppers: shoppers.length,
    ticketsAnswered: shoppers.filter((s) => s.queueNumber !== undefined && s.ticket !== undefined).length,
    stock: truth.postgres.stock,
    sold: truth.postgres.sold,
    admissions: truth.admissions.length,
    firstArrivalS: Number.isFinite(firstArrivalMs) ? seconds(firstArrivalMs) : null,
    firstAdmissionS: Number.isFinite(firstAdmittedAt) ? seconds(firstAdmittedAt - startedAt) : null,
    invariants: input.invariants,
  };
}

/** How long a deal took from its first shopper's arrival to its first admission (Infinity: it had shoppers and admitted none). */
export function waitForFirstAdmissionS(deal: DealReport): number {
  if (deal.firstArrivalS === null) return 0;
  if (deal.firstAdmissionS === null) return Infinity;
  return Math.round((deal.firstAdmissionS - deal.firstArrivalS) * 1000) / 1000;
}

/** The deal whose first admission came last after its first shopper arrived. */
export function slowestToFirstAdmission(deals: DealReport[]): DealReport | undefined {
  return deals.reduce<DealReport | undefined>(
    (slowest, deal) => (slowest === undefined || waitForFirstAdmissionS(deal) > waitForFirstAdmissionS(slowest) ? deal : slowest),
    undefined,
  );
}

/**
 * The run's verdict from each deal's own: a check's violations added up over the deals, its
 * examples naming the deal; figures added up, the active count the highest of any deal. A run of
 * one deal keeps that deal's report as it is.
 */
export function combineInvariants(deals: Array<{ dealId: string; invariants: InvariantReport }>): InvariantReport {
  if (deals.length === 1) return (deals[0] as { invariants: InvariantReport }).invariants;
  const checks = new Map<string, InvariantCheck>();
  for (const { dealId, invariants } of deals) {
    for (const check of invariants.checks) {
      const combined = checks.get(check.name) ?? { ...check, violations: 0, examples: [] };
      combined.violations += check.violations;
      for (const example of check.examples) if (combined.examples.length < 10) combined.examples.push(`${dealId}: ${example}`);
      checks.set(check.name, combined);
    }
  }
  const sum = (figure: keyof InvariantReport['figures']) => deals.reduce((total, d) => total + d.invariants.figures[figure], 0);
  return {
    ok: deals.every((d) => d.invariants.ok),
    checks: [...checks.values()],
    figures: {
      fifoViolations: sum('fifoViolations'),
      oversoldUnits: sum('oversoldUnits'),
      lostTickets: sum('lostTickets'),
      stillWaiting: sum('stillWaiting'),
      maxActiveSampled: Math.max(0, ...deals.map((d) => d.invariants.figures.maxActiveSampled)),
      staleCheckouts: sum('staleCheckouts'),
      ticketsChecked: sum('ticketsChecked'),
    },
  };
}

/**
 * The deals' truths put together, for the run's totals (stock, sold, orders, admissions per
 * second). Never check invariants on it: every deal numbers its queue from 1.
 */
export function mergeTruths(truths: Truth[]): Truth {
  if (truths.length === 1) return truths[0] as Truth;
  const sum = (field: keyof Truth['redis']) => truths.reduce((total, t) => total + t.redis[field], 0);
  const redis = { ...(truths[0] as Truth).redis };
  for (const key of Object.keys(redis) as Array<keyof Truth['redis']>) redis[key] = sum(key);
  return {
    readAt: Math.max(...truths.map((t) => t.readAt)),
    postgres: {
      stock: truths.reduce((total, t) => total + t.postgres.stock, 0),
      sold: truths.reduce((total, t) => total + t.postgres.sold, 0),
      orders: truths.flatMap((t) => t.postgres.orders),
    },
    redis,
    admissions: truths.flatMap((t) => t.admissions).sort((a, b) => a.admittedAt - b.admittedAt),
    activeDeadlines: truths.flatMap((t) => t.activeDeadlines),
    log: truths.flatMap((t) => t.log),
    records: new Map(truths.flatMap((t) => [...t.records])),
  };
}

const s = (value: number | null) => (value === null ? '—' : value.toFixed(2));

/** The per-deal table of a run with several deals, most popular first, and the slowest first admission. */
export function formatDealTable(deals: DealReport[], cap: number): string {
  const rows = deals.map((d) => {
    const f = d.invariants.figures;
    const wait = waitForFirstAdmissionS(d);
    return [
      d.dealId,
      d.shoppers.toLocaleString('en-US'),
      d.ticketsAnswered.toLocaleString('en-US'),
      `${d.sold}/${d.stock}`,
      d.admissions.toLocaleString('en-US'),
      s(d.firstArrivalS),
      s(d.firstAdmissionS),
      Number.isFinite(wait) ? wait.toFixed(2) : 'never',
      String(f.fifoViolations),
      `${f.maxActiveSampled}/${cap}`,
      String(f.oversoldUnits),
      String(f.lostTickets),
      String(f.stillWaiting),
      d.invariants.ok ? 'hold' : 'BROKEN',
    ];
  });
  const table = formatTable(
    [
      [
        'deal',
        'shoppers',
        'tickets',
        'sold',
        'admitted',
        '1st shopper s',
        '1st admission s',
        'wait s',
        'FIFO',
        'max active',
        'oversold',
        'lost',
        'waiting',
        'invariants',
      ],
      ...rows,
    ],
    { rightAligned: (column) => column > 0 && column < 13 },
  );
  const slowest = slowestToFirstAdmission(deals);
  const verdict = slowest
    ? `slowest deal to its first admission: ${slowest.dealId}, ${Number.isFinite(waitForFirstAdmissionS(slowest)) ? `${waitForFirstAdmissionS(slowest).toFixed(2)} s after its first shopper arrived (${s(slowest.firstAdmissionS)} s after the open)` : 'never admitted anyone'}`
    : '';
  return `${table}\n${verdict}`;
}
