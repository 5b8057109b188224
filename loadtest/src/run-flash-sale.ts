import { setTimeout as sleep } from 'node:timers/promises';
import { FlashSaleGenerator, type GeneratorResult } from './flash-sale.js';
import { checkInvariants } from './invariants.js';
import type { FlashSalePlan } from './plan.js';
import { buildReport, type FlashSaleReport } from './report.js';
import { RunSampler } from './sampler.js';
import type { Transport } from './transport.js';
import { readTruth, type TruthSources } from './truth.js';

export interface FlashSaleRun extends TruthSources {
  plan: FlashSalePlan;
  transport: Transport;
  runId: string;
  /** The stack's processes whose memory and CPU to watch (this process is added as `generator`). */
  processes?: Array<{ name: string; pid: number }>;
  log?: (line: string) => void;
  /** Ends the run early; the truth is still read and checked. */
  signal?: AbortSignal;
  /** How often to log a progress line (0: never). */
  progressEveryMs?: number;
  /** Shoppers whose status to ask the API for after the run (besides every admitted one the generator knows), at most. */
  apiSample?: number;
  /**
   * Pauses the deal once the shoppers stop, so that nobody more is admitted while the truth is
   * read (checkouts still expire): every read then sees the same line.
   */
  pause: () => Promise<void>;
}

/**
 * One whole flash sale: runs the generator against a fresh deal while sampling Redis, then reads
 * back the truth and checks every invariant. The deal must exist and be open.
 */
export async function runFlashSale(run: FlashSaleRun): Promise<FlashSaleReport> {
  const { plan, dealId, store } = run;
  const generator = new FlashSaleGenerator({
    plan,
    transport: run.transport,
    dealId,
    runId: run.runId,
    log: run.log,
    signal: run.signal,
    settled: async () => {
      const deal = await store.snapshot(dealId);
      return deal.served >= deal.lastQueueNumber && deal.active === 0;
    },
  });
  const sampler = new RunSampler(store, dealId, [
    ...(run.processes ?? []),
    ...(run.processes ? [{ name: 'generator', pid: process.pid }] : []),
  ]);
  sampler.start(Date.now());
  const progress =
    run.log && run.progressEveryMs
      ? setInterval(() => {
          const p = generator.progress();
          const deal = sampler.points[sampler.points.length - 1];
          run.log?.(
            `t=${(p.elapsedMs / 1000).toFixed(0)}s sent ${p.dispatched.toLocaleString('en-US')}/${plan.shoppers.toLocaleString('en-US')} (dropped ${p.dropped}), ` +
              `tickets ${p.ticketsServed.toLocaleString('en-US')}, requests in flight ${p.inFlight.toLocaleString('en-US')}, shoppers still going ${p.shoppersActive.toLocaleString('en-US')}` +
              (deal ? ` | waiting ${deal.waiting.toLocaleString('en-US')}, active ${deal.active}, sold ${deal.sold}/${plan.stock}` : ''),
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
  run.log?.(
    `generator stopped (${result.endReason}) after ${(result.durationMs / 1000).toFixed(1)} s; pausing the deal and reading back the truth …`,
  );
  await run.pause();
  await sleep(1_000); // what the services were still doing for the last requests lands

  const withTicket = result.shoppers.filter((s) => s.queueNumber !== undefined && s.ticket !== undefined);
  const truth = await readTruth(
    run,
    withTicket.map((s) => s.shopperId),
  );
  const apiAnswers = await askApi(run, withTicket, new Set(truth.admissions.map((a) => a.shopperId)));
  const invariants = checkInvariants({
    cap: plan.cap,
    truth,
    answered: withTicket.map((s) => ({
      shopperId: s.shopperId,
      queueNumber: s.queueNumber as number,
      distinctTickets: s.distinctTickets,
      statuses: s.statuses,
    })),
    activeSamples: sampler.activeSamples,
    apiAnswers,
  });
  return buildReport({ runId: run.runId, dealId, plan, result, truth, invariants, processes: sampler.usage(), timeline: sampler.points });
}

/** After the run: what the status API says for every admitted shopper and an even sample of the rest. */
async function askApi(
  run: FlashSaleRun,
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
              path: `/api/v1/deals/${run.dealId}/tickets/status`,
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
