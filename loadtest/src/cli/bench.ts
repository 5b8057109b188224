/**
 * `npm run bench`: throughput and latency of ticket issue, status poll, payment and admission
 * drain, each beside two baselines measured in the same run with the same generator: a bare Hono
 * route returning fixed JSON, and a bare Hono route that only signs a ticket. Prints a table of
 * ratios and appends it to loadtest/RESULTS.md with the date and the machine's facts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration, topicForDeal } from '@quickdeal/core';
import { repoRoot } from '@quickdeal/dev/paths';
import { endpoints, type ProfileName } from '@quickdeal/dev/profiles';
import type { LocalTarget } from '@quickdeal/operator';
import { cannon, closedLoop, openLoop } from '../bench/drivers.js';
import {
  describeCpu,
  measurePaths,
  settle,
  n,
  openRate,
  sum,
  servingPids,
  withCpu,
  type BenchOptions,
  type ServingPids,
  type BenchPath,
  type PathResult,
} from '../bench/measure.js';
import { compareKafkaClients } from '../bench/kafka-clients.js';
import { compareProfiles, summarize, summarizeCrowd, summarizeKafkaClients, summarizeWrk } from '../bench/summary.js';
import { measureWithWrk, type WrkPath } from '../bench/wrk.js';
import { appendResults, describeMachine, machineFacts } from '../machine.js';
import { httpTransport, TransportError, type LoadRequest, type Transport } from '../transport.js';
import { createLoadDeal, freshDealId, retireLoadDeals, type LoadDeal } from './deal.js';
import { loadtestDir, log } from './output.js';
import { connectClients, describeStack, ensureStack, waitForAdmission, type Stack, type StackClients } from './stack.js';

/** The admission drain's cap: how many slots are freed at once in each round. */
const drainCap = 1_000;

/** Runs the baselines' server as its own process; resolves with its URL once it listens. */
async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--conditions=quickdeal-source', '--import', 'tsx', join(loadtestDir, 'src', 'bench', 'baseline-server.ts')],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PORT: '0' },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the baseline server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the baseline server exited with code ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Takes tickets for `count` new shoppers as fast as it can (not measured). */
async function takeTickets(transport: Transport, dealId: string, prefix: string, count: number, connections: number) {
  const tickets: Array<{ shopperId: string; ticket: string }> = [];
  await closedLoop(transport, {
    connections,
    durationMs: 600_000,
    request: (i) =>
      i < count ? { method: 'POST', path: `/api/v1/deals/${dealId}/tickets`, headers: { 'x-user-id': `${prefix}-${i}` } } : undefined,
    onAnswer: (i, answer) => {
      const body = answer instanceof TransportError ? undefined : (answer.body as { ticket?: string } | undefined);
      if (!(answer instanceof TransportError) && answer.status === 201 && body?.ticket)
        tickets.push({ shopperId: `${prefix}-${i}`, ticket: body.ticket });
    },
  });
  if (tickets.length < count) throw new Error(`only ${tickets.length} of ${count} tickets were issued (is ticketing healthy? see its log)`);
  return tickets;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(20);
  }
}

/**
 * Admission drain: with the cap full and a line behind it, frees every checkout at once (the same
 * script a cancel runs) and measures how long until every slot is filled again, from the first
 * release to the last admission's own timestamp in the audit trail.
 */
async function drainRounds(clients: StackClients, dealId: string, cap: number, rounds: number): Promise<number[]> {
  const { store } = clients;
  await waitUntil('the first checkouts filling the cap', async () => (await store.snapshot(dealId)).active === cap);
  const fills: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    await sleep(300); // the consumer settles into its blocked state
    const trail = await store.admissions(dealId);
    const qnOf = new Map(trail.map((a) => [a.shopperId, a.queueNumber]));
    const active = (await store.activeShoppers(dealId)).map((a) => a.shopperId);
    const target = trail.length + active.length;
    const t0 = Date.now();
    const released = await Promise.all(active.map((shopperId) => store.releaseCheckout(dealId, shopperId, qnOf.get(shopperId) ?? 0)));
    const releasedMs = Date.now() - t0;
    if (released.some((r) => r !== 'released')) throw new Error('a checkout could not be released');
    await waitUntil(`refilling ${active.length} slots`, async () => (await store.admissionCount(dealId)) >= target, 30_000);
    const refill = (await store.admissions(dealId)).slice(trail.length, target);
    const fillMs = Math.max(...refill.map((a) => a.admittedAt)) - t0;
    fills.push(fillMs);
    log(
      `admission drain round ${round}: ${n(active.length)} slots freed in ${releasedMs} ms, all filled again ${fillMs} ms after the first was freed`,
    );
  }
  return fills;
}

/** What the phases of a bench share: the options, the stack and its processes, the run's deals. */
interface BenchRun {
  options: BenchOptions;
  runId: string;
  deals: { issue: string; pay: string; drain: string };
  stack: Stack;
  clients: StackClients;
  /** Takes tickets before a measurement (not measured itself). */
  ticketing: Transport;
}

type Shopper = { shopperId: string; ticket: string };

const usage = `usage: npm run bench -- [--duration 5s] [--repeat 5] [--connections 50] [--crowd-connections 200] [--open-share 0.5] [--open-max-rate 5000]
                       [--poll-tickets 20000] [--pay-shoppers 3000] [--drain-rounds 3]
                       [--profile dev|test|cluster] [--kafka-messages 20000] [--keep-stack] [--no-record] [--no-wrk] [--wrk-duration 5s]
--profile cluster measures the single box (dev) and then the cluster profile in the same run, and prints their ratios.
--kafka-messages 0 skips the comparison of kafkajs with @platformatic/kafka.
--crowd-connections 0 skips measuring ticket issue and the jose sign-only route again with that many connections.
--no-wrk skips measuring the paths again with wrk.`;

function parseBenchArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5s' },
      repeat: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      'crowd-connections': { type: 'string', default: '200' },
      'open-share': { type: 'string', default: '0.5' },
      'open-max-rate': { type: 'string', default: '5000' },
      'poll-tickets': { type: 'string', default: '20000' },
      'pay-shoppers': { type: 'string', default: '3000' },
      'drain-rounds': { type: 'string', default: '3' },
      profile: { type: 'string', default: 'dev' },
      'kafka-messages': { type: 'string', default: '20000' },
      'keep-stack': { type: 'boolean' },
      'no-wrk': { type: 'boolean' },
      'wrk-duration': { type: 'string', default: '5s' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const options: BenchOptions = {
    durationMs: parseDuration(values.duration),
    repeat: Math.max(1, Number(values.repeat)),
    connections: Number(values.connections),
    crowdConnections: Number(values['crowd-connections']),
    openShare: Number(values['open-share']),
    openMaxRate: Number(values['open-max-rate']),
    pollTickets: Number(values['poll-tickets']),
    payShoppers: Number(values['pay-shoppers']),
    drainRounds: Number(values['drain-rounds']),
    wrkDurationSeconds: Math.max(1, Math.round(parseDuration(values['wrk-duration']) / 1000)),
  };
  return {
    help: values.help === true,
    options,
    profile: values.profile as ProfileName,
    keepStack: values['keep-stack'] === true,
    record: !values['no-record'],
    kafkaMessages: Number(values['kafka-messages']),
    wrk: !values['no-wrk'],
  };
}

/** The three deals of a run, applied as `quickdeal apply` would; issue and poll on a paused deal, so every poll is a shopper still in line. */
async function createBenchDeals(run: BenchRun, target: LocalTarget, outDir: string, created: LoadDeal[]): Promise<void> {
  const day = 24 * 3_600_000;
  for (const [dealId, spec] of [
    [
      run.deals.issue,
      { stock: 10_000_000, cap: drainCap, windowMs: 1_200_000, ticketTtlMs: day, paused: true, product: 'Bench: issue and poll' },
    ],
    [run.deals.pay, { stock: 10_000_000, cap: 1_000_000, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: payment' }],
    [run.deals.drain, { stock: 10_000_000, cap: drainCap, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: admission drain' }],
  ] as const) {
    created.push(await createLoadDeal(target, outDir, dealId, spec));
  }
  log('bench deals applied; waiting for the admission consumers to pick them up …');
  await waitForAdmission(
    run.clients.kafka,
    Object.values(run.deals).map((d) => topicForDeal(d)),
  );
}

/** Shoppers in line to poll with, each polled once first (a shopper's first poll verifies the ticket's signature); returns the i-th poll. */
async function preparePolls(run: BenchRun): Promise<{ pollOf: (i: number) => LoadRequest; shoppers: Shopper[] }> {
  const { options, deals } = run;
  log(
    `status poll: taking ${n(options.pollTickets)} tickets to poll with, and polling each once (a shopper's first poll verifies the signature) …`,
  );
  const tickets = await takeTickets(run.ticketing, deals.issue, `${run.runId}-p`, options.pollTickets, options.connections);
  const pollOf = (i: number): LoadRequest => {
    const shopper = tickets[i % tickets.length] as Shopper;
    return {
      method: 'GET',
      path: `/api/v1/deals/${deals.issue}/tickets/status`,
      headers: { 'x-user-id': shopper.shopperId, authorization: `Bearer ${shopper.ticket}` },
    };
  };
  await closedLoop(run.ticketing, {
    connections: options.connections,
    durationMs: 600_000,
    request: (i) => (i < tickets.length ? pollOf(i) : undefined),
  });
  return { pollOf, shoppers: tickets };
}

/** The baselines, ticket issue and status poll again with wrk, for the same targets and the ratios a peer reports with it. */
async function measureWrk(
  run: BenchRun,
  baselineUrl: string,
  polls: { pollOf: (i: number) => LoadRequest; shoppers: Shopper[] },
  pids: ServingPids,
) {
  const wrkOptions = {
    rounds: run.options.repeat,
    durationSeconds: run.options.wrkDurationSeconds,
    threads: 2,
    connections: run.options.connections,
  };
  log(`wrk: ${wrkOptions.rounds} rounds of ${wrkOptions.durationSeconds} s a path …`);
  const paths: WrkPath[] = [
    {
      id: 'bare',
      name: 'bare Hono route (fixed JSON)',
      url: baselineUrl,
      servedBy: ['baseline'],
      requests: { kind: 'fixed', request: { ...polls.pollOf(0), path: '/bare' } },
    },
    ...(
      [
        ['sign-jose', 'sign-only Hono route (jose EdDSA)', '/sign-jose'],
        ['sign', 'sign-only Hono route (node:crypto Ed25519)', '/sign'],
      ] as const
    ).map(([id, name, path]): WrkPath => ({
      id,
      name,
      url: baselineUrl,
      servedBy: ['baseline'],
      requests: { kind: 'unique-shopper', method: 'POST', path, prefix: `${run.runId}-w${id}` },
    })),
    {
      id: 'issue',
      name: 'ticket issue (enqueue)',
      url: run.stack.ticketingUrl,
      servedBy: ['ticketing', 'redis', 'kafka'],
      requests: { kind: 'unique-shopper', method: 'POST', path: `/api/v1/deals/${run.deals.issue}/tickets`, prefix: `${run.runId}-w` },
    },
    {
      id: 'poll',
      name: 'status poll',
      url: run.stack.ticketingUrl,
      servedBy: ['ticketing'],
      requests: { kind: 'polls', path: `/api/v1/deals/${run.deals.issue}/tickets/status`, shoppers: polls.shoppers },
    },
  ];
  return summarizeWrk(await measureWithWrk(paths, pids, wrkOptions, log), wrkOptions);
}

/**
 * The paths measured side by side: the baselines, ticket issue, status poll, and the poll through
 * the local gateway. `shopperTag` keeps another set's new shoppers apart from these.
 */
function benchPaths(run: BenchRun, baselineUrl: string, pollOf: (i: number) => LoadRequest, shopperTag = ''): BenchPath[] {
  const { stack, deals } = run;
  const runId = `${run.runId}${shopperTag}`;
  let issued = 0;
  let signed = 0;
  let polled = 0;
  const signOnly = (path: string) => (): LoadRequest => ({ method: 'POST', path, headers: { 'x-user-id': `${runId}-s-${signed++}` } });
  return [
    // The bare route gets a poll's very headers, so both parse requests of the same size.
    {
      id: 'bare',
      name: 'bare Hono route (fixed JSON)',
      url: baselineUrl,
      servedBy: ['baseline'],
      request: (i) => ({ ...pollOf(i), path: '/bare' }),
    },
    {
      id: 'sign-jose',
      name: 'sign-only Hono route (jose EdDSA)',
      url: baselineUrl,
      servedBy: ['baseline'],
      request: signOnly('/sign-jose'),
    },
    {
      id: 'sign',
      name: 'sign-only Hono route (node:crypto Ed25519)',
      url: baselineUrl,
      servedBy: ['baseline'],
      request: signOnly('/sign'),
    },
    {
      id: 'issue',
      name: 'ticket issue (POST …/tickets)',
      url: stack.ticketingUrl,
      servedBy: ['ticketing', 'redis', 'kafka'],
      request: () => ({ method: 'POST', path: `/api/v1/deals/${deals.issue}/tickets`, headers: { 'x-user-id': `${runId}-i-${issued++}` } }),
    },
    {
      id: 'poll',
      name: 'status poll (GET …/tickets/status)',
      url: stack.ticketingUrl,
      servedBy: ['ticketing'],
      request: () => pollOf(polled++),
    },
    // For scale only (no target): the same poll through the local proxy, as `npm run loadtest` sends it.
    {
      id: 'poll-via-gateway',
      name: 'status poll via the local gateway',
      url: stack.gatewayUrl,
      servedBy: ['gateway', 'ticketing'],
      request: () => pollOf(polled++),
    },
  ];
}

/**
 * Ticket issue beside the jose sign-only route again with more connections (for scale, no target):
 * at the bench's 50 a ticket's three round trips (Redis, Kafka, Redis) bound the door, while a
 * crowd fills its batches.
 */
async function measureCrowd(run: BenchRun, baselineUrl: string, pollOf: (i: number) => LoadRequest, pids: ServingPids) {
  const connections = run.options.crowdConnections;
  log(`── ticket issue and the jose sign-only route at ${connections} connections ──`);
  const paths = benchPaths(run, baselineUrl, pollOf, '-crowd').filter((path) => path.id === 'sign-jose' || path.id === 'issue');
  return measurePaths(paths, pids, { ...run.options, connections }, log);
}

/** Payment: shoppers admitted in advance (cap and stock far above them), each paying once, closed loop then open loop. */
async function measurePayment(run: BenchRun, pids: ServingPids): Promise<PathResult> {
  const { options, stack, deals } = run;
  const openShoppers = Math.max(500, Math.round(options.payShoppers / 2));
  log(`payment: admitting ${n(options.payShoppers + openShoppers)} shoppers first …`);
  const payers = await takeTickets(run.ticketing, deals.pay, `${run.runId}-pay`, options.payShoppers + openShoppers, options.connections);
  await waitUntil('admitting the payers', async () => (await run.clients.store.snapshot(deals.pay)).active >= payers.length);
  const payOf = (i: number): LoadRequest => {
    const shopper = payers[i] as Shopper;
    return {
      method: 'POST',
      path: `/api/v1/deals/${deals.pay}/orders`,
      headers: {
        'x-user-id': shopper.shopperId,
        authorization: `Bearer ${shopper.ticket}`,
        'content-type': 'application/json',
        'idempotency-key': `${shopper.shopperId}-order`,
      },
      body: '{"paymentMethod":{"token":"tok_approve"}}',
    };
  };
  log(`payment (POST …/orders): ${n(options.payShoppers)} shoppers paying once each, ${options.connections} connections …`);
  const servedBy = ['payment', 'redis', 'postgres'];
  await settle();
  const { result: closed, cpuUsBy } = await withCpu(servedBy, pids, () =>
    cannon({ url: stack.paymentUrl, connections: options.connections, amount: options.payShoppers, request: payOf }),
  );
  const ratePerSecond = openRate(closed.okPerSecond, options);
  log(`payment: ${n(closed.okPerSecond)}/s, CPU per answer ${describeCpu(cpuUsBy)}; open loop at ${n(ratePerSecond)}/s …`);
  const payment = httpTransport(() => stack.paymentUrl, { connections: options.connections * 4 });
  const open = await openLoop(payment, {
    ratePerSecond,
    durationMs: Math.min(options.durationMs, (openShoppers / ratePerSecond) * 1000),
    request: (i) => (i < openShoppers ? payOf(options.payShoppers + i) : undefined),
  });
  await payment.close();
  return {
    id: 'payment',
    name: 'payment (POST …/orders)',
    servedBy,
    closed,
    runs: [closed.okPerSecond],
    cpuUs: sum(Object.values(cpuUsBy)),
    cpuUsBy,
    open: { ...open, ratePerSecond },
  };
}

/** Admission drain: a line of (rounds + 1) × cap shoppers behind a full cap, then the rounds. */
async function measureDrain(run: BenchRun): Promise<number[]> {
  const { options } = run;
  log(`admission drain: queueing ${n(drainCap * (options.drainRounds + 1))} shoppers behind a cap of ${n(drainCap)} …`);
  await takeTickets(run.ticketing, run.deals.drain, `${run.runId}-d`, drainCap * (options.drainRounds + 1), options.connections);
  return drainRounds(run.clients, run.deals.drain, drainCap, options.drainRounds);
}

function recordResults(argv: string[], markdown: string, machine: string, started: string[]): void {
  appendResults(
    join(loadtestDir, 'RESULTS.md'),
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — benchmark\n\n` +
      `\`npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\`; ${machine}; the whole stack and the generator on this machine; ` +
      `${describeStack(started)}.\n\n${markdown}`,
  );
  log('appended to loadtest/RESULTS.md');
}

interface ProfileBench {
  profile: ProfileName;
  results: PathResult[];
  /** Ticket issue and the jose sign-only route again at `--crowd-connections`, when asked for. */
  crowd: PathResult[] | undefined;
  fills: number[];
  /** The wrk table (unless --no-wrk). */
  wrk: { terminal: string; markdown: string } | undefined;
  stack: Stack;
}

/** Every path on one profile's stack, with its own baselines. The stack stays up (the caller stops it) unless this fails. */
async function benchProfile(profile: ProfileName, options: BenchOptions, keepStack: boolean, wrk: boolean): Promise<ProfileBench> {
  const stack = await ensureStack(profile, log);
  const clients = connectClients(profile);
  const target = endpoints(profile);
  const runId = freshDealId('bench').slice(3);
  const outDir = join(loadtestDir, 'out', `bench-${runId}`);
  mkdirSync(outDir, { recursive: true });
  const run: BenchRun = {
    options,
    runId,
    stack,
    clients,
    deals: { issue: `lt-${runId}-issue`, pay: `lt-${runId}-pay`, drain: `lt-${runId}-drain` },
    ticketing: httpTransport(() => stack.ticketingUrl, { connections: options.connections }),
  };
  const created: LoadDeal[] = [];
  let baseline: { url: string; child: ChildProcess } | undefined;
  let measured = false;
  try {
    baseline = await startBaseline();
    await createBenchDeals(run, target, outDir, created);
    const polls = await preparePolls(run);
    const pids = servingPids(await stack.pids());
    if (baseline.child.pid) pids.set('baseline', [baseline.child.pid]);
    const results = await measurePaths(benchPaths(run, baseline.url, polls.pollOf), pids, options, log);
    const crowd = options.crowdConnections > 0 ? await measureCrowd(run, baseline.url, polls.pollOf, pids) : undefined;
    results.push(await measurePayment(run, pids));
    const fills = await measureDrain(run);
    const wrkTable = wrk ? await measureWrk(run, baseline.url, polls, pids) : undefined;
    measured = true;
    return { profile, results, crowd, fills, wrk: wrkTable, stack };
  } finally {
    await run.ticketing.close().catch(() => undefined);
    baseline?.child.kill('SIGTERM');
    if (created.length > 0)
      await retireLoadDeals(target, clients.kafka, created, log).catch((error: unknown) =>
        log(`could not retire the bench deals: ${(error as Error).message}`),
      );
    await clients.close();
    if (!measured && !keepStack) await stack.stop();
  }
}

async function main(argv: string[]): Promise<number> {
  const { help, options, profile, keepStack, record, kafkaMessages, wrk } = parseBenchArgs(argv);
  if (help) {
    console.log(usage);
    return 0;
  }
  const machine = describeMachine(machineFacts());
  log(`machine: ${machine}`);

  // The cluster profile is measured beside the single box, same generator, same run: its cost is a ratio.
  const profiles: ProfileName[] = profile === 'cluster' ? ['dev', 'cluster'] : [profile];
  const benches: ProfileBench[] = [];
  try {
    for (const name of profiles) {
      log(`── ${name} profile ──`);
      benches.push(await benchProfile(name, options, keepStack, wrk));
    }
    await report(benches, { profiles, kafkaMessages, options, record, argv, machine });
  } finally {
    // The Kafka clients' comparison runs on the last profile's brokers, so every stack stays up until here.
    if (!keepStack) for (const bench of benches.reverse()) await bench.stack.stop();
  }
  return 0;
}

/** Prints each profile's tables, the cluster ÷ dev comparison and the Kafka clients' comparison, and records them. */
async function report(
  benches: ProfileBench[],
  run: { profiles: ProfileName[]; kafkaMessages: number; options: BenchOptions; record: boolean; argv: string[]; machine: string },
): Promise<void> {
  const { profiles, kafkaMessages, options, record, argv, machine } = run;
  const sections = benches.map((bench) => ({ bench, text: summarize(bench.results, bench.fills, options) }));
  const markdown: string[] = [];
  for (const { bench, text } of sections) {
    console.log(`\n${profiles.length > 1 ? `${bench.profile} profile\n` : ''}${text.terminal}\n`);
    markdown.push(`${profiles.length > 1 ? `### ${bench.profile} profile\n\n` : ''}${text.markdown}`);
    if (bench.crowd) {
      const crowd = summarizeCrowd(bench.crowd, options);
      console.log(`${crowd.terminal}\n`);
      markdown.push(crowd.markdown);
    }
    if (bench.wrk) {
      console.log(`${bench.wrk.terminal}\n`);
      markdown.push(bench.wrk.markdown);
    }
  }
  const [single, cluster] = benches;
  if (single && cluster) {
    const comparison = compareProfiles(single, cluster);
    console.log(`${comparison.terminal}\n`);
    markdown.push(comparison.markdown);
  }
  if (kafkaMessages > 0) {
    const last = benches[benches.length - 1] as ProfileBench;
    const target = endpoints(last.profile);
    log(`kafka clients: ${n(kafkaMessages)} ticket messages each round on the ${last.profile} profile's brokers …`);
    const kafka = summarizeKafkaClients(
      await compareKafkaClients(
        target.kafkaBrokers,
        target.topicSettings,
        { messages: kafkaMessages, batchSize: 100, repeat: options.repeat },
        log,
      ),
      last.profile,
    );
    console.log(`${kafka.terminal}\n`);
    markdown.push(kafka.markdown);
  }
  if (record)
    recordResults(
      argv,
      markdown.join('\n\n'),
      machine,
      benches.flatMap((bench) => bench.stack.started),
    );
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  if (process.env.QUICKDEAL_DEBUG) console.error(error);
  return 1;
});
// Open handles (kafkajs timers, keep-alive sockets) must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode), 500).unref();
