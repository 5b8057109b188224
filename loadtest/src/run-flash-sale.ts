import { setTimeout as sleep } from 'node:timers/promises';
import { FlashSaleGenerator, type GeneratorResult } from './flash-sale.js';
import { buildDealReport, combineInvariants, mergeTruths, type DealReport } from './deal-report.js';
import { checkInvariants } from './invariants.js';
import type { FlashSalePlan } from './plan.js';
import { checkOpening, type PublishedDraw } from './opening.js';
import { buildReport, type FlashSaleReport } from './report.js';
import { RunSampler } from './sampler.js';
import type { Transport } from './transport.js';
import { readTruth, type Truth, type TruthSources } from './truth.js';

/** One deal of a run: its id, its topic, and how to pause it once the shoppers stop. */
export interface SaleDeal {
  dealId: string;
  topic: string;
  /**
   * Pauses the deal once the shoppers stop, so that nobody more is admitted while the truth is
   * read (checkouts still expire): every read then sees the same line.
   */
  pause: () => Promise<void>;
}

export interface FlashSaleRun extends Omit<TruthSources, 'dealId' | 'topic'> {
  plan: FlashSalePlan;
  transport: Transport;
  runId: string;
  /** The deals opening together, most popular first: as many as `plan.deals`, each open and with nothing sold. */
  deals: SaleDeal[];
  /** The stack's processes whose memory and CPU to watch (this process is added as `generator`). */
  processes?: Array<{ name: string; pid: number }>;
  log?: (line: string) => void;
  /** Ends the run early; the truth is still read and checked. */
  signal?: AbortSignal;
  /** How often to log a progress line (0: never). */
  progressEveryMs?: number;
  /** Shoppers whose status to ask the API for after the run, per deal (besides every admitted one the generator knows), at most. */
  apiSample?: number;
  /** When the deal opens (epoch ms), for a plan with a pre-open time: the shoppers start `plan.preOpenMs` before it. */
  opensAt?: number;
}

/** How long a line may take to drain after the last shopper's journey ended. */
const settleTimeoutMs = 20_000;

/**
 * One whole flash sale of one deal or several opening together: runs the generator against fresh
 * deals while sampling Redis, then reads back each deal's truth and checks every invariant on each
 * deal alone (queue numbers, cap and stock are a deal's own). The deals must exist and be open.
 */
export async function runFlashSale(run: FlashSaleRun): Promise<FlashSaleReport> {
  const { plan, store } = run;
  if (run.deals.length !== plan.deals) throw new Error(`the plan is for ${plan.deals} deals but the run has ${run.deals.length}`);
  const dealIds = run.deals.map((deal) => deal.dealId);
  if (plan.preOpenMs > 0 && run.opensAt === undefined) throw new Error('a plan with a pre-open time needs the deal’s opensAt');
  const settled = async () => {
    const deals = await Promise.all(dealIds.map((dealId) => store.snapshot(dealId)));
    return deals.every((deal) => deal.served >= deal.lastQueueNumber && deal.active === 0);
  };
  const generator = new FlashSaleGenerator({
    plan,
    transport: run.transport,
    dealIds,
    runId: run.runId,
    log: run.log,
    signal: run.signal,
    settled,
    startAt: plan.preOpenMs > 0 ? (run.opensAt as number) - plan.preOpenMs : undefined,
  });
  const sampler = new RunSampler(store, dealIds, [
    ...(run.processes ?? []),
    ...(run.processes ? [{ name: 'generator', pid: process.pid }] : []),
  ]);
  sampler.start(Date.now());
  const progress =
    run.log && run.progressEveryMs
      ? setInterval(() => {
          const p = generator.progress();
          const deal = sampler.latest();
          run.log?.(
            `t=${(p.elapsedMs / 1000).toFixed(0)}s sent ${p.dispatched.toLocaleString('en-US')}/${plan.shoppers.toLocaleString('en-US')} (dropped ${p.dropped}), ` +
              `tickets ${p.ticketsServed.toLocaleString('en-US')}, requests in flight ${p.inFlight.toLocaleString('en-US')}, shoppers still going ${p.shoppersActive.toLocaleString('en-US')}` +
              (deal
                ? ` | waiting ${deal.waiting.toLocaleString('en-US')}, active ${deal.active}, sold ${deal.sold}/${plan.stock * plan.deals}`
                : ''),
          );
        }, run.progressEveryMs)
      : undefined;
  let result: GeneratorResult;
  try {
    result = await generator.run();
  } finally {
    clearInterval(progress);
    await sampler.stop();
  }
  run.log?.(`generator stopped (${result.endReason}) after ${(result.durationMs / 1000).toFixed(1)} s`);
  if (result.endReason === 'finished') {
    // Every shopper has an answer (a sold-out deal tells the whole line at once), but admission may
    // still be working through the log's last tickets: give it the time a line takes to drain
    // before pausing, so "still waiting" counts a stalled line, not one caught mid-stride.
    const deadline = Date.now() + settleTimeoutMs;
    let drained = await settled();
    while (!drained && Date.now() < deadline) {
      await sleep(250);
      drained = await settled();
    }
    if (!drained) run.log?.(`the line did not drain within ${settleTimeoutMs / 1000} s of the last shopper's answer`);
  }
  run.log?.(`pausing the deal${plan.deals > 1 ? 's' : ''} and reading back the truth …`);
  await Promise.all(run.deals.map((deal) => deal.pause()));
  await sleep(1_000); // what the services were still doing for the last requests lands

  const checked: Array<{ truth: Truth; report: DealReport }> = [];
  for (const deal of run.deals) checked.push(await checkDeal(run, deal, result, sampler.activeSamples.get(deal.dealId) ?? []));
  const first = run.deals[0] as SaleDeal;
  const opening =
    plan.preOpenMs > 0
      ? checkOpening({
          opensAt: run.opensAt as number,
          preOpenMs: plan.preOpenMs,
          shoppers: result.shoppers,
          truth: (checked[0] as { truth: Truth }).truth,
          draw: await publishedDraw(run, first.dealId),
        })
      : undefined;
  const report = buildReport({
    runId: run.runId,
    dealId: first.dealId,
    plan,
    result,
    truth: mergeTruths(checked.map((c) => c.truth)),
    invariants: combineInvariants(checked.map((c) => c.report)),
    deals: checked.map((c) => c.report),
    processes: sampler.usage(),
    timeline: sampler.points.get(first.dealId) ?? [],
  });
  if (!opening) return report;
  // the opening's own invariants count like the others
  const invariants = {
    ...report.invariants,
    ok: report.invariants.ok && opening.ok,
    checks: [...report.invariants.checks, ...opening.checks],
  };
  return { ...report, invariants, opening };
}

/** The deal's draw as the API publishes it after the open. */
async function publishedDraw(run: FlashSaleRun, dealId: string): Promise<PublishedDraw> {
  const answer = await run.transport.send({ method: 'GET', path: `/api/v1/deals/${dealId}/draw`, headers: {} }, run.plan.timeoutMs);
  if (answer.status !== 200) throw new Error(`GET …/${dealId}/draw answered ${answer.status}`);
  return answer.body as PublishedDraw;
}

/** Reads one deal's truth and checks its invariants on its own shoppers' evidence. */
async function checkDeal(
  run: FlashSaleRun,
  deal: SaleDeal,
  result: GeneratorResult,
  activeSamples: number[],
): Promise<{ truth: Truth; report: DealReport }> {
  const shoppers = result.shoppers.filter((s) => s.dealId === deal.dealId);
  const withTicket = shoppers.filter((s) => s.queueNumber !== undefined && s.ticket !== undefined);
  const sources = { dealId: deal.dealId, topic: deal.topic, store: run.store, db: run.db, kafka: run.kafka };
  const truth = await readTruth(
    sources,
    withTicket.map((s) => s.shopperId),
  );
  const apiAnswers = await askApi(run, deal.dealId, withTicket, new Set(truth.admissions.map((a) => a.shopperId)));
  const invariants = checkInvariants({
    cap: run.plan.cap,
    windowMs: run.plan.windowMs,
    truth,
    answered: withTicket.map((s) => ({
      shopperId: s.shopperId,
      queueNumber: s.queueNumber as number,
      distinctTickets: s.distinctTickets,
      statuses: s.statuses,
    })),
    activeSamples,
    apiAnswers,
  });
  return { truth, report: buildDealReport({ dealId: deal.dealId, startedAt: result.startedAt, shoppers, truth, invariants }) };
}

/** After the run: what the status API says for every admitted shopper and an even sample of the rest. */
async function askApi(
  run: FlashSaleRun,
  dealId: string,
  shoppers: Array<{ shopperId: string; ticket: string | undefined }>,
  admitted: Set<string>,
): Promise<Array<{ shopperId: string; status: string }>> {
  const limit = run.apiSample ?? 500;
  const others = shoppers.filter((s) => !admitted.has(s.shopperId));
  const step = Math.max(1, Math.floor(others.length / limit));
  const chosen = [
    ...shoppers.filter((s) => admitted.has(s.shopperId)).slice(0, 2_000),
    ...others.filter((_, i) => i % step === 0).slice(0, limit),
  ];
  const answers: Array<{ shopperId: string; status: string }> = [];
  for (let i = 0; i < chosen.length; i += 100) {
    await Promise.all(
      chosen.slice(i, i + 100).map(async (s) => {
        try {
          const answer = await run.transport.send(
            {
              method: 'GET',
              path: `/api/v1/deals/${dealId}/tickets/status`,
              headers: { 'x-user-id': s.shopperId, authorization: `Bearer ${s.ticket}` },
            },
            run.plan.timeoutMs,
          );
          const body = answer.body as { status?: string; error?: { code?: string } };
          const status = answer.status === 200 ? body.status : body.error?.code;
          if (status && status !== 'RATE_LIMITED') answers.push({ shopperId: s.shopperId, status });
        } catch {
          // no answer: nothing to compare
        }
      }),
    );
  }
  return answers;
}
