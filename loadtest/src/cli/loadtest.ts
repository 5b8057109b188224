/**
 * `npm run loadtest -- [--scenario <name>] [options]`: one flash sale against the local stack
 * (started here if it is not running), then the truth read back and every invariant checked.
 * Writes loadtest/out/<deal>/report.json and chart.png; exits 1 when an invariant broke.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { endpoints, type ProfileName } from '@quickdeal/dev/profiles';
import { upstreamFor } from '@quickdeal/dev/gateway';
import type { Cluster } from 'ioredis';
import { renderChart } from '../chart.js';
import { countingPolls, formatFaultTable, runFaultDrill, type FaultStall } from '../cluster/fault-drill.js';
import { appendResults, describeMachine, machineFacts } from '../machine.js';
import { formatOpening } from '../opening.js';
import { PlanError, describePlan, planFor, planOptions, planOverrides, scenarios, type FlashSalePlan } from '../plan.js';
import { formatReport, type FlashSaleReport } from '../report.js';
import { runFlashSale } from '../run-flash-sale.js';
import { httpTransport } from '../transport.js';
import { createLoadDeal, freshDealId, retireLoadDeals, type LoadDeal } from './deal.js';
import { loadtestDir, log } from './output.js';
import { connectClients, describeAssignment, describeStack, ensureStack, waitForAdmission } from './stack.js';

const memoryLimitMiB = 300;
/** How long the cluster-faults drill watches the sale after each fault. */
const faultObserveMs = 15_000;

function usage(): string {
  const names = Object.entries(scenarios)
    .map(([name, s]) => `  ${name.padEnd(16)} ${s.summary}`)
    .join('\n');
  return `usage: npm run loadtest -- [--scenario <name>] [options]

scenarios (options given beside one override its values):
${names}

the sale:      --shoppers N  --arrival-rate PER_S  --arrival-profile constant|poisson|spike
               --stock N  --cap N  --window 20m  --ticket-ttl 2h
shoppers:      --pay 0.7  --cancel 0.1 (the rest walk away)  --decline 0.05  --think 200ms-1500ms
many deals:    --deals N (opening together; --stock and --cap are each deal's)  --zipf 1 (popularity exponent)
the opening:   --pre-open 10m (the deal opens this long after the first arrival, with a pre-queue drawn at the open)
               --pre-open-share 0.5 (of the shoppers, arriving before the open)  --proof-of-work ROUNDS (0: none)
the generator: --connections N  --max-in-flight N  --timeout 60s  --max-duration 5m  --seed N
the stack:     --profile dev|test|cluster (default dev; cluster-faults needs cluster)  --via gateway|services (default gateway)
               --keep-stack (leave what this command started running)  --keep-deal (leave the deal in Redis and Kafka)
output:        --out DIR (default loadtest/out)  --record (append a summary to loadtest/RESULTS.md)`;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...planOptions,
        scenario: { type: 'string', short: 's' },
        profile: { type: 'string', default: 'dev' },
        via: { type: 'string', default: 'gateway' },
        'keep-stack': { type: 'boolean' },
        'keep-deal': { type: 'boolean' },
        record: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`loadtest: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(usage());
    return 0;
  }
  let plan: FlashSalePlan;
  try {
    plan = planFor(values.scenario, planOverrides(values));
  } catch (error) {
    if (error instanceof PlanError) {
      console.error(`loadtest: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const profile = values.profile as ProfileName;
  if (profile !== 'dev' && profile !== 'test' && profile !== 'cluster') {
    console.error('loadtest: --profile must be dev, test or cluster');
    return 2;
  }
  const drilled = plan.scenario === 'cluster-faults';
  if (drilled && profile !== 'cluster') {
    console.error('loadtest: the cluster-faults scenario runs on the cluster profile: add --profile cluster');
    return 2;
  }
  if (values.via !== 'gateway' && values.via !== 'services') {
    console.error('loadtest: --via must be gateway or services');
    return 2;
  }

  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) return;
    log('interrupted: stopping the shoppers, then checking what happened so far …');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const facts = machineFacts();
  const runId = freshDealId(plan.scenario);
  const dealIds = plan.deals === 1 ? [runId] : Array.from({ length: plan.deals }, (_, k) => `${runId}-${k + 1}`);
  const outDir = join(values.out ?? join(loadtestDir, 'out'), runId);
  mkdirSync(outDir, { recursive: true });
  log(`plan: ${describePlan(plan)}`);

  const stack = await ensureStack(profile, log);
  const clients = connectClients(profile);
  const target = endpoints(profile);
  let report: FlashSaleReport | undefined;
  const deals: LoadDeal[] = [];
  const { transport, pollsAnswered } = countingPolls(
    httpTransport(
      values.via === 'gateway'
        ? () => stack.gatewayUrl
        : (path) => (upstreamFor(path) === 'payment' ? stack.paymentUrl : stack.ticketingUrl),
      { connections: plan.connections },
    ),
  );
  let drill: Promise<FaultStall[] | undefined> = Promise.resolve(undefined);
  // A pre-queue run: the deal opens once the setup is done and the pre-open time has passed; its
  // pre-queue opens a little before the first arrival.
  const setupMs = 30_000;
  const opensAt = plan.preOpenMs > 0 ? Date.now() + setupMs + plan.preOpenMs : undefined;
  const opening = opensAt ? { opensAt, prequeueMs: plan.preOpenMs + setupMs } : {};
  try {
    for (const dealId of dealIds) deals.push(await createLoadDeal(target, outDir, dealId, { ...plan, ...opening }));
    log(
      plan.deals === 1
        ? `deal ${runId} applied (${relative(process.cwd(), deals[0]?.manifest ?? '')}); waiting for the admission consumers to pick up ${deals[0]?.topic} …`
        : `${plan.deals} deals ${dealIds[0]} … ${dealIds[dealIds.length - 1]} applied (manifests in ${relative(process.cwd(), outDir)}); waiting for the admission consumers to pick up their topics …`,
    );
    const consumers = await waitForAdmission(
      clients.kafka,
      deals.map((deal) => deal.topic),
    );
    if (plan.deals > 1) log(`the deals' partitions, by admission consumer: ${describeAssignment(consumers)}`);
    if (opensAt) {
      log(
        `the deal opens at ${new Date(opensAt).toISOString()}; the first shoppers arrive at ${new Date(opensAt - plan.preOpenMs).toISOString()}, into the pre-queue`,
      );
      if (opensAt - plan.preOpenMs < Date.now())
        log(`the setup took longer than ${setupMs / 1000} s: the arrivals due already go out at once`);
    }
    log(
      `${opensAt ? 'pre-queue' : 'open'}: ${plan.shoppers.toLocaleString('en-US')} shoppers arrive via ${values.via === 'gateway' ? stack.gatewayUrl : 'the services directly'}`,
    );
    if (drilled) {
      const arrivalsEndAt = Date.now() + (plan.shoppers / plan.arrivalRate) * 1_000;
      const [first] = deals as [LoadDeal];
      drill = runFaultDrill(
        {
          profile,
          kafka: clients.kafka,
          redis: clients.redis as Cluster,
          store: clients.store,
          dealId: first.dealId,
          topic: first.topic,
          pollsAnswered,
          log,
        },
        { startAfterIssued: Math.ceil(plan.shoppers / 20), observeMs: faultObserveMs, arrivalsOver: () => Date.now() >= arrivalsEndAt },
      ).catch((error: unknown) => {
        log(`fault drill failed: ${(error as Error).message}`);
        return undefined;
      });
    }
    report = await runFlashSale({
      plan,
      transport,
      runId,
      deals,
      store: clients.store,
      db: clients.db,
      kafka: clients.kafka,
      processes: await stack.processes(),
      log,
      signal: abort.signal,
      progressEveryMs: 5_000,
      opensAt,
    });
    const jsonFile = join(outDir, 'report.json');
    const pngFile = join(outDir, 'chart.png');
    const faults = await drill;
    writeFileSync(jsonFile, `${JSON.stringify(faults ? { ...report, faults } : report, null, 2)}\n`);
    writeFileSync(pngFile, await renderChart(report));
    console.log(`\n${formatReport(report, memoryLimitMiB)}\n`);
    if (faults) {
      console.log(
        `faults, one after another, each restored before the next (the longest still-stand within ${faultObserveMs / 1000} s of each):`,
      );
      console.log(`${formatFaultTable(faults, faultObserveMs).replace(/^/gm, '  ')}\n`);
    }
    console.log(`report: ${relative(process.cwd(), jsonFile)}\nchart:  ${relative(process.cwd(), pngFile)}`);
    if (values.record) {
      appendResults(
        join(loadtestDir, 'RESULTS.md'),
        loadtestSection(report, values.via, process.argv.slice(2), `${describeMachine(facts)}; ${describeStack(stack.started)}`),
      );
      console.log('summary appended to loadtest/RESULTS.md');
    }
  } finally {
    await transport.close().catch(() => undefined);
    if (deals.length > 0 && !values['keep-deal']) {
      log(`retiring the deal${deals.length > 1 ? 's' : ''} (sold out, the line drained, the Redis state removed; --keep-deal keeps it) …`);
      await retireLoadDeals(target, clients.kafka, deals, log).catch((error: unknown) =>
        log(`could not retire the deal: ${(error as Error).message}`),
      );
    }
    await clients.close();
    if (!values['keep-stack']) await stack.stop();
  }
  return report?.invariants.ok ? 0 : 1;
}

/** A RESULTS.md section for one load-test run. */
function loadtestSection(report: FlashSaleReport, via: string, args: string[], conditions: string): string {
  const l = (name: string) => report.latency[name];
  const rows = ['challenge', 'ticket', 'prequeue', 'status', 'checkout', 'pay', 'cancel']
    .filter((name) => l(name))
    .map(
      (name) =>
        `| ${name} | ${l(name)?.count.toLocaleString('en-US')} | ${l(name)?.p50Ms} | ${l(name)?.p95Ms} | ${l(name)?.p99Ms} | ${l(name)?.maxMs} |`,
    );
  const usage = report.processes.map((p) => `${p.name} ${p.peakRssMiB.toFixed(0)} MiB / ${p.cores.toFixed(2)} cores`).join(', ');
  const f = report.invariants.figures;
  return `## ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC — load test, scenario ${report.scenario}

\`npm run loadtest -- ${args.join(' ')}\` (via the ${via}); ${conditions}.

${describePlan(report.plan)}.

- ended: ${report.endReason} after ${report.durationS.toFixed(1)} s; arrivals sent ${report.generator.dispatched.toLocaleString('en-US')}, dropped by the generator ${report.generator.dropped}, send lag p99 ${report.generator.sendLag.p99Ms} ms
- tickets: offered ${report.tickets.offeredPerSecond.toLocaleString('en-US')}/s, served ${report.tickets.servedPerSecond.toLocaleString('en-US')}/s (peak ${report.tickets.peakServedPerSecond.toLocaleString('en-US')}/s); ${report.tickets.created.toLocaleString('en-US')} issued, ${report.tickets.turnedAway.toLocaleString('en-US')} turned away sold out
- sale: ${report.sale.sold} of ${report.sale.stock} sold, ${report.sale.timeToSellOutS === null ? 'not sold out' : `sold out after ${report.sale.timeToSellOutS.toFixed(1)} s`}; ${report.sale.admissions} admissions, ${report.sale.admissionsPerSecond.mean}/s mean, ${report.sale.admissionsPerSecond.peak}/s peak
- invariants: ${report.invariants.ok ? 'all hold' : 'BROKEN'} — FIFO violations ${f.fifoViolations}, oversold ${f.oversoldUnits}, lost tickets ${f.lostTickets}, max active ${f.maxActiveSampled} (cap ${report.plan.cap}), still waiting at the end ${f.stillWaiting}
${
  report.opening
    ? `${formatOpening(report.opening).replace(/^ */gm, '- ')}
`
    : ''
}- unexpected errors: ${report.errors.unexpected}${
    Object.keys(report.errors.byCode).length > 0
      ? ` (non-2xx answers: ${Object.entries(report.errors.byCode)
          .map(([k, v]) => `${k} ×${v}`)
          .join(', ')})`
      : ''
  }
- peak resident memory and average CPU during the run: ${usage}

| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`loadtest: ${(error as Error).message}`);
  if (process.env.QUICKDEAL_DEBUG) console.error(error);
  return 1;
});
// Open handles (kafkajs timers, keep-alive sockets) must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode), 500).unref();
