import { cpus } from 'node:os';
import { formatTable } from '@quickdeal/dev/table';
import { formatDealTable, type DealReport } from './deal-report.js';
import type { Endpoint, GeneratorResult, SecondCounts, ShopperOutcome } from './flash-sale.js';
import type { InvariantReport } from './invariants.js';
import type { LatencySummary } from './latency.js';
import { formatOpening, type OpeningReport } from './opening.js';
import { describePlan, type FlashSalePlan } from './plan.js';
import type { ProcessUsage, TimelinePoint } from './sampler.js';
import type { Truth } from './truth.js';

/** Answers that a flash sale is meant to give: sold out (410) and slow down (429); 402 when declines were asked for. */
export function isIntendedAnswer(key: string, plan: Pick<FlashSalePlan, 'decline'>): boolean {
  return /^(410|429)\b/.test(key) || (plan.decline > 0 && key.startsWith('402 '));
}

export interface FlashSaleReport {
  runId: string;
  dealId: string;
  scenario: string;
  plan: FlashSalePlan;
  startedAt: string;
  durationS: number;
  endReason: GeneratorResult['endReason'];
  generator: { shoppers: number; dispatched: number; dropped: number; abandoned: number; sendLag: LatencySummary };
  tickets: {
    offeredPerSecond: number;
    servedPerSecond: number;
    peakServedPerSecond: number;
    created: number;
    turnedAway: number;
  };
  latency: Record<string, LatencySummary>;
  answers: Record<string, Record<string, number>>;
  errors: { unexpected: number; byCode: Record<string, number> };
  sale: {
    stock: number;
    sold: number;
    orders: number;
    timeToSellOutS: number | null;
    admissions: number;
    admissionsPerSecond: { mean: number; peak: number };
    outcomes: Partial<Record<ShopperOutcome, number>>;
  };
  invariants: InvariantReport;
  /** Each deal on its own (one entry for a single-deal run), most popular first. */
  deals: DealReport[];
  processes: ProcessUsage[];
  /** The most popular deal's counters over time. */
  timeline: Array<TimelinePoint & { admissionsPerSecond: number }>;
  perSecond: SecondCounts[];
  /** A run with a pre-queue: the draw's invariants (also among `invariants.checks`) and the opening's times. */
  opening?: OpeningReport;
}

export function buildReport(input: {
  runId: string;
  dealId: string;
  plan: FlashSalePlan;
  result: GeneratorResult;
  truth: Truth;
  invariants: InvariantReport;
  deals: DealReport[];
  processes: ProcessUsage[];
  timeline: TimelinePoint[];
}): FlashSaleReport {
  const { plan, result, truth } = input;
  const seconds = (ms: number) => Math.round(ms) / 1000;
  const ticketAnswers = result.answers.ticket ?? {};
  const served = (ticketAnswers['201'] ?? 0) + (ticketAnswers['200'] ?? 0);
  const arrivalSpanS = Math.max(1, result.arrivalSpanMs / 1000);
  const lastServedSecond = result.perSecond.reduce((last, s, i) => (s.ticketsServed > 0 ? i : last), 0);

  const byCode: Record<string, number> = {};
  let unexpected = 0;
  for (const [endpoint, counts] of Object.entries(result.answers)) {
    for (const [key, count] of Object.entries(counts)) {
      if (/^2\d\d$/.test(key)) continue;
      byCode[`${endpoint} ${key}`] = count;
      if (!isIntendedAnswer(key, plan)) unexpected += count;
    }
  }

  const outcomes: Partial<Record<ShopperOutcome, number>> = {};
  for (const shopper of result.shoppers) if (shopper.outcome) outcomes[shopper.outcome] = (outcomes[shopper.outcome] ?? 0) + 1;

  const trail = truth.admissions;
  const perSecondAdmissions = new Map<number, number>();
  for (const a of trail) {
    const second = Math.floor((a.admittedAt - result.startedAt) / 1000);
    perSecondAdmissions.set(second, (perSecondAdmissions.get(second) ?? 0) + 1);
  }
  const admissionSpanS = trail.length > 1 ? ((trail[trail.length - 1]?.admittedAt ?? 0) - (trail[0]?.admittedAt ?? 0)) / 1000 : 0;
  const soldOutAt =
    truth.postgres.sold >= truth.postgres.stock && truth.postgres.orders.length > 0
      ? Math.max(...truth.postgres.orders.map((o) => o.createdAt))
      : undefined;

  const timeline = input.timeline.map((point, i, all) => {
    const previous = all[i - 1];
    const rate = previous && point.t > previous.t ? (point.admitted - previous.admitted) / (point.t - previous.t) : 0;
    return { ...point, admissionsPerSecond: Math.round(rate * 10) / 10 };
  });

  return {
    runId: input.runId,
    dealId: input.dealId,
    scenario: plan.scenario,
    plan,
    startedAt: new Date(result.startedAt).toISOString(),
    durationS: seconds(result.durationMs),
    endReason: result.endReason,
    generator: {
      shoppers: plan.shoppers,
      dispatched: result.dispatched,
      dropped: result.dropped,
      abandoned: result.abandoned,
      sendLag: result.sendLag,
    },
    tickets: {
      offeredPerSecond: Math.round(result.dispatched / arrivalSpanS),
      servedPerSecond: Math.round(served / Math.max(1, lastServedSecond + 1)),
      peakServedPerSecond: Math.max(0, ...result.perSecond.map((s) => s.ticketsServed)),
      created: ticketAnswers['201'] ?? 0,
      turnedAway: ticketAnswers['410 ITEM_SOLD_OUT'] ?? 0,
    },
    latency: result.latency,
    answers: result.answers,
    errors: { unexpected, byCode },
    sale: {
      stock: truth.postgres.stock,
      sold: truth.postgres.sold,
      orders: truth.postgres.orders.length,
      timeToSellOutS: soldOutAt === undefined ? null : seconds(soldOutAt - result.startedAt),
      admissions: trail.length,
      admissionsPerSecond: {
        mean: admissionSpanS > 0 ? Math.round(trail.length / admissionSpanS) : trail.length,
        peak: Math.max(0, ...perSecondAdmissions.values()),
      },
      outcomes,
    },
    invariants: input.invariants,
    deals: input.deals,
    processes: input.processes,
    timeline,
    perSecond: result.perSecond,
  };
}

const n = (value: number) => value.toLocaleString('en-US');
/** QuickDeal's own services, which the memory limit is for (the gateway is the local stand-in for an ingress). */
export const services = ['ticketing', 'admission', 'payment'];
const endpoints: Endpoint[] = ['challenge', 'ticket', 'prequeue', 'status', 'checkout', 'pay', 'cancel'];

/** Names on the left, figures right-aligned. */
const table = (rows: string[][]) => formatTable(rows, { rightAligned: (column) => column > 0 });

/** The report as a person reads it in a terminal. */
export function formatReport(report: FlashSaleReport, memoryLimitMiB = 300): string {
  const lines: string[] = [];
  const { tickets, sale, generator, invariants } = report;
  lines.push(`flash sale ${report.runId} — scenario ${report.scenario}, deal ${report.dealId}`);
  lines.push(`  ${describePlan(report.plan)}`);
  lines.push(`  ran ${report.durationS.toFixed(1)} s, ended: ${report.endReason}`);
  lines.push('');
  lines.push(
    `arrivals   ${n(generator.dispatched)} sent of ${n(generator.shoppers)}; dropped by the generator: ${n(generator.dropped)}; ` +
      `send lag p99 ${generator.sendLag.p99Ms} ms, max ${generator.sendLag.maxMs} ms; ${n(generator.abandoned)} requests abandoned unanswered at the end`,
  );
  lines.push(
    `tickets    offered ${n(tickets.offeredPerSecond)}/s, served ${n(tickets.servedPerSecond)}/s (peak ${n(tickets.peakServedPerSecond)}/s); ` +
      `${n(tickets.created)} issued, ${n(tickets.turnedAway)} turned away sold out`,
  );
  lines.push(
    `sale       ${n(sale.sold)} of ${n(sale.stock)} sold (${n(sale.orders)} orders); sold out after ${sale.timeToSellOutS === null ? '— (not sold out)' : `${sale.timeToSellOutS.toFixed(1)} s`}`,
  );
  lines.push(
    `admission  ${n(sale.admissions)} admitted, ${n(sale.admissionsPerSecond.mean)}/s on average, peak ${n(sale.admissionsPerSecond.peak)}/s`,
  );
  lines.push(
    `shoppers   ${Object.entries(sale.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')}`,
  );
  if (report.opening) lines.push(formatOpening(report.opening));
  lines.push('');
  lines.push('latency from the intended send time (corrected for coordinated omission), ms:');
  lines.push(
    table([
      ['endpoint', 'count', 'p50', 'p95', 'p99', 'max'],
      ...endpoints
        .filter((e) => report.latency[e])
        .map((e) => {
          const l = report.latency[e] as LatencySummary;
          return [e, n(l.count), String(l.p50Ms), String(l.p95Ms), String(l.p99Ms), String(l.maxMs)];
        }),
    ]).replace(/^/gm, '  '),
  );
  lines.push('');
  const codes = Object.entries(report.errors.byCode).sort((a, b) => b[1] - a[1]);
  lines.push(`answers other than 2xx: ${codes.length === 0 ? 'none' : ''}`);
  for (const [code, count] of codes)
    lines.push(
      `  ${code.padEnd(40)} ${n(count).padStart(9)}${isIntendedAnswer(code.split(' ').slice(1).join(' '), report.plan) ? '  (intended)' : ''}`,
    );
  lines.push(`unexpected errors: ${n(report.errors.unexpected)}`);
  lines.push('');
  lines.push(
    `invariants: ${invariants.ok ? 'all hold' : 'BROKEN'} (${n(invariants.figures.ticketsChecked)} tickets checked; ` +
      `FIFO violations ${invariants.figures.fifoViolations}, oversold ${invariants.figures.oversoldUnits}, lost ${invariants.figures.lostTickets}, ` +
      `max active ${invariants.figures.maxActiveSampled} of cap ${report.plan.cap}, still waiting ${n(invariants.figures.stillWaiting)})`,
  );
  for (const check of invariants.checks) {
    lines.push(
      `  ${check.violations === 0 ? 'ok  ' : 'FAIL'} ${check.title}${check.violations > 0 ? ` — ${n(check.violations)} violations` : ''}`,
    );
    for (const example of check.examples) lines.push(`         ${example}`);
  }
  if (report.deals.length > 1) {
    lines.push('');
    lines.push(`each deal on its own (times in seconds after the open; wait: from its first shopper's arrival to its first admission):`);
    lines.push(formatDealTable(report.deals, report.plan.cap).replace(/^/gm, '  '));
  }
  lines.push('');
  lines.push(
    `processes (resident memory in MiB, limit ${memoryLimitMiB} for the services; CPU over the run, in cores busy on average of ${cpus().length}):`,
  );
  lines.push(
    table([
      ['process', 'peak in run', 'lifetime peak', 'CPU s', 'cores', ''],
      ...report.processes.map((p) => [
        p.name,
        p.peakRssMiB.toFixed(1),
        p.lifetimePeakMiB.toFixed(1),
        p.cpuSeconds.toFixed(1),
        p.cores.toFixed(2),
        services.includes(p.name) && Math.max(p.peakRssMiB, p.lifetimePeakMiB) > memoryLimitMiB ? 'OVER THE LIMIT' : '',
      ]),
    ]).replace(/^/gm, '  '),
  );
  return lines.join('\n');
}
