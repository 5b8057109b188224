/**
 * `npm run bench`: throughput and latency of ticket issue, status poll, payment and admission
 * drain, each beside two baselines measured in the same run with the same generator: a bare Hono
 * route returning fixed JSON, and a bare Hono route that only signs a ticket. Prints a table of
 * ratios and appends it to loadtest/RESULTS.md with the date and the machine's facts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration, topicForDeal } from '@quickdeal/core';
import { repoRoot } from '../../../dev/src/paths.js';
import { endpoints, type ProfileName } from '../../../dev/src/profiles.js';
import { cpuSeconds, servesFromChildren } from '../proc.js';
import { cannon, closedLoop, openLoop, type CannonMeasurement, type Measurement } from '../bench/drivers.js';
import { appendResults, describeMachine, machineFacts } from '../machine.js';
import { httpTransport, TransportError, type LoadRequest, type Transport } from '../transport.js';
import { createLoadDeal, freshDealId, retireLoadDeals, type LoadDeal } from './deal.js';
import { connectClients, describeStack, ensureStack, waitForAdmission, type StackClients } from './stack.js';

const loadtestDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Options {
  durationMs: number;
  repeat: number;
  connections: number;
  openShare: number;
  openMaxRate: number;
  pollTickets: number;
  payShoppers: number;
  drainRounds: number;
}

interface BenchPath {
  name: string;
  url: string;
  request: (i: number) => LoadRequest;
  /** The processes that serve it, whose CPU time per answer is measured. */
  servedBy: string[];
}

interface PathResult {
  name: string;
  servedBy: string[];
  /** The median closed-loop run, and every run's throughput. */
  closed: CannonMeasurement;
  runs: number[];
  /** CPU time the serving processes spent per 2xx answer (median over the runs), µs, in all and by process. */
  cpuUs: number;
  cpuUsBy: Record<string, number>;
  open: Measurement & { ratePerSecond: number };
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const n = (value: number) => Math.round(value).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Runs the baselines' server as its own process; resolves with its URL once it listens. */
async function startBaseline(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', join(loadtestDir, 'src', 'bench', 'baseline-server.ts')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0' },
  });
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
    request: (i) => (i < count ? { method: 'POST', path: `/api/v1/deals/${dealId}/tickets`, headers: { 'x-user-id': `${prefix}-${i}` } } : undefined),
    onAnswer: (i, answer) => {
      const body = answer instanceof TransportError ? undefined : (answer.body as { ticket?: string } | undefined);
      if (!(answer instanceof TransportError) && answer.status === 201 && body?.ticket) tickets.push({ shopperId: `${prefix}-${i}`, ticket: body.ticket });
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
 * Each path's closed loop `repeat` times, the paths interleaved round by round so that a moment
 * when the (shared) machine is busier does not favour one path; the median run counts. The CPU
 * time of the serving processes is read from /proc around each run. Then each path's open loop.
 */
async function measurePaths(paths: BenchPath[], pids: Map<string, number>, options: Options): Promise<PathResult[]> {
  log('warming up every path (2 s each, not counted) …');
  for (const path of paths) await cannon({ url: path.url, connections: options.connections, durationMs: 2_000, request: path.request });
  const runs = paths.map(() => [] as Array<{ m: CannonMeasurement; cpuUsBy: Record<string, number> }>);
  for (let round = 1; round <= options.repeat; round++) {
    for (const [i, path] of paths.entries()) {
      const { result: m, cpuUsBy } = await withCpu(path.servedBy, pids, () => cannon({ url: path.url, connections: options.connections, durationMs: options.durationMs, request: path.request }));
      runs[i]?.push({ m, cpuUsBy });
      log(`round ${round}/${options.repeat}: ${path.name}: ${n(m.okPerSecond)}/s, CPU per answer ${describeCpu(cpuUsBy)} (p50 ${m.latency.p50Ms} ms, p99 ${m.latency.p99Ms} ms)`);
    }
  }
  const results: PathResult[] = [];
  for (const [i, path] of paths.entries()) {
    const all = runs[i] ?? [];
    const closed = [...all].sort((a, b) => a.m.okPerSecond - b.m.okPerSecond)[Math.floor(all.length / 2)]?.m as CannonMeasurement;
    const ratePerSecond = Math.max(1, Math.min(options.openMaxRate, Math.round(closed.okPerSecond * options.openShare)));
    log(`${path.name}: open loop at ${n(ratePerSecond)}/s …`);
    const transport = httpTransport(() => path.url, { connections: options.connections * 4 });
    const open = await openLoop(transport, { ratePerSecond, durationMs: options.durationMs, request: path.request });
    await transport.close();
    const cpuUsBy = Object.fromEntries(path.servedBy.map((name) => [name, median(all.map((r) => r.cpuUsBy[name] ?? NaN))]));
    results.push({ name: path.name, servedBy: path.servedBy, closed, runs: all.map((r) => r.m.okPerSecond), cpuUs: sum(Object.values(cpuUsBy)), cpuUsBy, open: { ...open, ratePerSecond } });
  }
  return results;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Runs `work` and reads from /proc how much CPU each named process (with its children) spent per 2xx answer, in µs. */
async function withCpu<T extends { ok: number }>(names: string[], pids: Map<string, number>, work: () => Promise<T>): Promise<{ result: T; cpuUsBy: Record<string, number> }> {
  const read = () => names.map((name) => { const pid = pids.get(name); return pid === undefined ? NaN : cpuSeconds([pid], { withChildren: servesFromChildren(name) }); });
  const before = read();
  const result = await work();
  const after = read();
  return { result, cpuUsBy: Object.fromEntries(names.map((name, i) => [name, result.ok > 0 ? (((after[i] ?? NaN) - (before[i] ?? NaN)) * 1e6) / result.ok : NaN])) };
}

function describeCpu(cpuUsBy: Record<string, number>): string {
  const entries = Object.entries(cpuUsBy);
  const total = `${n(sum(entries.map(([, v]) => v)))} µs`;
  return entries.length > 1 ? `${total} (${entries.map(([name, v]) => `${name} ${n(v)}`).join(' + ')})` : total;
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
    log(`admission drain round ${round}: ${n(active.length)} slots freed in ${releasedMs} ms, all filled again ${fillMs} ms after the first was freed`);
  }
  return fills;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5s' },
      repeat: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      'open-share': { type: 'string', default: '0.5' },
      'open-max-rate': { type: 'string', default: '5000' },
      'poll-tickets': { type: 'string', default: '20000' },
      'pay-shoppers': { type: 'string', default: '3000' },
      'drain-rounds': { type: 'string', default: '3' },
      profile: { type: 'string', default: 'dev' },
      'keep-stack': { type: 'boolean' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench -- [--duration 5s] [--repeat 3] [--connections 50] [--open-share 0.5] [--open-max-rate 5000]
                       [--poll-tickets 20000] [--pay-shoppers 3000] [--drain-rounds 3]
                       [--profile dev|test] [--keep-stack] [--no-record]`);
    return 0;
  }
  const options: Options = {
    durationMs: parseDuration(values.duration),
    repeat: Math.max(1, Number(values.repeat)),
    connections: Number(values.connections),
    openShare: Number(values['open-share']),
    openMaxRate: Number(values['open-max-rate']),
    pollTickets: Number(values['poll-tickets']),
    payShoppers: Number(values['pay-shoppers']),
    drainRounds: Number(values['drain-rounds']),
  };
  const profile = values.profile as ProfileName;
  const facts = machineFacts();
  log(`machine: ${describeMachine(facts)}`);

  const stack = await ensureStack(profile, log);
  const clients = connectClients(profile);
  const target = endpoints(profile);
  const runId = freshDealId('bench').slice(3);
  const outDir = join(loadtestDir, 'out', `bench-${runId}`);
  mkdirSync(outDir, { recursive: true });
  const deals = { issue: `lt-${runId}-issue`, pay: `lt-${runId}-pay`, drain: `lt-${runId}-drain` };
  const created: LoadDeal[] = [];
  let baseline: { url: string; child: ChildProcess } | undefined;
  const ticketing = httpTransport(() => stack.ticketingUrl, { connections: options.connections });
  try {
    baseline = await startBaseline();
    const day = 24 * 3_600_000;
    const cap = 1_000;
    // Issue and poll on a paused deal: nobody is admitted, so every poll is a shopper still in line.
    for (const [dealId, spec] of [
      [deals.issue, { stock: 10_000_000, cap, windowMs: 1_200_000, ticketTtlMs: day, paused: true, product: 'Bench: issue and poll' }],
      [deals.pay, { stock: 10_000_000, cap: 1_000_000, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: payment' }],
      [deals.drain, { stock: 10_000_000, cap, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: admission drain' }],
    ] as const) {
      created.push(await createLoadDeal(target, outDir, dealId, spec));
    }
    log('bench deals applied; waiting for the admission consumers to pick them up …');
    await waitForAdmission(clients.kafka, Object.values(deals).map((d) => topicForDeal(d)));

    log(`status poll: taking ${n(options.pollTickets)} tickets to poll with, and polling each once (a shopper's first poll verifies the signature) …`);
    const tickets = await takeTickets(ticketing, deals.issue, `${runId}-p`, options.pollTickets, options.connections);
    const pollOf = (i: number): LoadRequest => {
      const shopper = tickets[i % tickets.length] as { shopperId: string; ticket: string };
      return { method: 'GET', path: `/api/v1/deals/${deals.issue}/tickets/status`, headers: { 'x-user-id': shopper.shopperId, authorization: `Bearer ${shopper.ticket}` } };
    };
    await closedLoop(ticketing, { connections: options.connections, durationMs: 600_000, request: (i) => (i < tickets.length ? pollOf(i) : undefined) });

    let issued = 0;
    let signed = 0;
    let polled = 0;
    const paths: BenchPath[] = [
      // The bare route gets a poll's very headers, so both parse requests of the same size.
      { name: 'bare Hono route (fixed JSON)', url: baseline.url, servedBy: ['baseline'], request: (i) => ({ ...pollOf(i), path: '/bare' }) },
      { name: 'sign-only Hono route (jose EdDSA)', url: baseline.url, servedBy: ['baseline'], request: () => ({ method: 'POST', path: '/sign', headers: { 'x-user-id': `${runId}-s-${signed++}` } }) },
      {
        name: 'ticket issue (POST …/tickets)', url: stack.ticketingUrl, servedBy: ['ticketing', 'redis', 'kafka'],
        request: () => ({ method: 'POST', path: `/api/v1/deals/${deals.issue}/tickets`, headers: { 'x-user-id': `${runId}-i-${issued++}` } }),
      },
      { name: 'status poll (GET …/tickets/status)', url: stack.ticketingUrl, servedBy: ['ticketing'], request: () => pollOf(polled++) },
      // For scale only (no target): the same poll through the local gateway, as `npm run loadtest` sends it.
      { name: 'status poll via the dev gateway', url: stack.gatewayUrl, servedBy: ['gateway', 'ticketing'], request: () => pollOf(polled++) },
    ];
    const pids = await stack.pids();
    if (baseline.child.pid) pids.set('baseline', baseline.child.pid);
    const results = await measurePaths(paths, pids, options);

    // Payment: shoppers admitted in advance (cap and stock far above them), each paying once.
    const openShoppers = Math.max(500, Math.round(options.payShoppers / 2));
    log(`payment: admitting ${n(options.payShoppers + openShoppers)} shoppers first …`);
    const payers = await takeTickets(ticketing, deals.pay, `${runId}-pay`, options.payShoppers + openShoppers, options.connections);
    await waitUntil('admitting the payers', async () => (await clients.store.snapshot(deals.pay)).active >= payers.length);
    const payOf = (i: number): LoadRequest => {
      const shopper = payers[i] as { shopperId: string; ticket: string };
      return {
        method: 'POST',
        path: `/api/v1/deals/${deals.pay}/orders`,
        headers: { 'x-user-id': shopper.shopperId, authorization: `Bearer ${shopper.ticket}`, 'content-type': 'application/json', 'idempotency-key': `${shopper.shopperId}-order` },
        body: '{"paymentMethod":{"token":"tok_approve"}}',
      };
    };
    log(`payment (POST …/orders): ${n(options.payShoppers)} shoppers paying once each, ${options.connections} connections …`);
    const servedBy = ['payment', 'redis', 'postgres'];
    const { result: payClosed, cpuUsBy: payCpu } = await withCpu(servedBy, pids, () => cannon({ url: stack.paymentUrl, connections: options.connections, amount: options.payShoppers, request: payOf }));
    const payRate = Math.max(1, Math.min(options.openMaxRate, Math.round(payClosed.okPerSecond * options.openShare)));
    log(`payment: ${n(payClosed.okPerSecond)}/s, CPU per answer ${describeCpu(payCpu)}; open loop at ${n(payRate)}/s …`);
    const payment = httpTransport(() => stack.paymentUrl, { connections: options.connections * 4 });
    const payOpen = await openLoop(payment, { ratePerSecond: payRate, durationMs: Math.min(options.durationMs, (openShoppers / payRate) * 1000), request: (i) => (i < openShoppers ? payOf(options.payShoppers + i) : undefined) });
    await payment.close();
    results.push({ name: 'payment (POST …/orders)', servedBy, closed: payClosed, runs: [payClosed.okPerSecond], cpuUs: sum(Object.values(payCpu)), cpuUsBy: payCpu, open: { ...payOpen, ratePerSecond: payRate } });

    // Admission drain: a line of (rounds + 1) × cap shoppers behind a full cap.
    log(`admission drain: queueing ${n(cap * (options.drainRounds + 1))} shoppers behind a cap of ${n(cap)} …`);
    await takeTickets(ticketing, deals.drain, `${runId}-d`, cap * (options.drainRounds + 1), options.connections);
    const fills = await drainRounds(clients, deals.drain, cap, options.drainRounds);

    const text = summarize(results, fills, options);
    console.log(`\n${text.terminal}\n`);
    if (!values['no-record']) {
      appendResults(join(loadtestDir, 'RESULTS.md'), `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — benchmark\n\n` +
        `\`npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\`; ${describeMachine(facts)}; the whole stack and the generator on this machine; ` +
        `${describeStack(stack.started)}.\n\n${text.markdown}`);
      log('appended to loadtest/RESULTS.md');
    }
    return 0;
  } finally {
    await ticketing.close().catch(() => undefined);
    baseline?.child.kill('SIGTERM');
    if (created.length > 0) await retireLoadDeals(target, clients.kafka, created, log).catch((error: unknown) => log(`could not retire the bench deals: ${(error as Error).message}`));
    await clients.close();
    if (!values['keep-stack']) await stack.stop();
  }
}

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '—');

function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** The figures as a terminal table and as Markdown, with the targets met or missed. */
function summarize(results: PathResult[], fills: number[], options: Options): { terminal: string; markdown: string } {
  const [bare, sign, issue, poll] = results;
  const payment = results.find((r) => r.name.startsWith('payment'));
  const bareRate = bare?.closed.okPerSecond ?? 0;
  const signRate = sign?.closed.okPerSecond ?? 0;
  const header = ['path', '2xx/s', '× bare', '× sign-only', 'runs (2xx/s)', 'CPU µs/answer', 'CPU × bare', 'p50 ms', 'p99 ms', 'open rate/s', 'open p50', 'open p99', 'open max', 'non-2xx'];
  const rows = results.map((r) => {
    const statuses: Record<string, number> = { ...r.closed.statuses };
    for (const [k, v] of Object.entries(r.open.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const non2xx = Object.entries(statuses).filter(([k]) => !/^2\d\d$/.test(k)).map(([k, v]) => `${k}×${v}`).join(' ');
    return [
      r.name, n(r.closed.okPerSecond), ratio(r.closed.okPerSecond, bareRate), ratio(r.closed.okPerSecond, signRate), r.runs.map(n).join(' / '),
      describeCpu(r.cpuUsBy), ratio(r.cpuUs, bare?.cpuUs ?? NaN),
      String(r.closed.latency.p50Ms), String(r.closed.latency.p99Ms), n(r.open.ratePerSecond),
      String(r.open.latency.p50Ms), String(r.open.latency.p99Ms), String(r.open.latency.maxMs), non2xx || '—',
    ];
  });
  const sortedFills = [...fills].sort((a, b) => a - b);
  const worst = sortedFills[sortedFills.length - 1] ?? NaN;
  const pollRatio = (poll?.closed.okPerSecond ?? 0) / bareRate;
  const issueRatio = (issue?.closed.okPerSecond ?? 0) / signRate;
  const targets = [
    ['status poll ≥ 0.8 × bare', pollRatio >= 0.8, `${pollRatio.toFixed(2)} × (CPU per answer ${ratio(poll?.cpuUs ?? NaN, bare?.cpuUs ?? NaN)} × the bare route's)`],
    ['ticket issue ≥ 0.5 × sign-only', issueRatio >= 0.5, `${issueRatio.toFixed(2)} ×`],
    ['1,000 freed slots filled < 1 s', worst < 1_000, `median ${median(fills)} ms, worst ${worst} ms over ${fills.length} rounds`],
  ] as const;
  const drainLine = `admission drain: 1,000 freed slots filled in ${fills.map((f) => `${n(f)} ms`).join(', ')} (median ${n(median(fills))} ms)`;
  const method =
    `Closed loop (autocannon): ${options.connections} connections for ${options.durationMs / 1000} s, ${options.repeat} runs per path interleaved round by round after a 2 s warm-up, ` +
    'the median run shown (throughput; latency at saturation, 2xx only). CPU µs/answer: user+system time of each serving process (Postgres with its backends) from /proc over the run, per 2xx answer, median over the runs. ' +
    `Open loop (undici): a fixed rate of ${options.openShare} × the path's throughput (at most ${n(options.openMaxRate)}/s) for ${options.durationMs / 1000} s, latency from each request's intended send time. ` +
    `Payment: one run, each admitted shopper paying once (${n(payment?.closed.requests ?? 0)} closed, ${n(payment?.open.requests ?? 0)} open). ` +
    'Issue, poll and payment go straight to the services (no gateway), like the baselines; polls are of shoppers still in line (a paused deal), their tickets verified once before.';
  const terminal = [
    formatTable([header, ...rows]),
    '',
    drainLine,
    '',
    ...targets.map(([name, met, figure]) => `${met ? 'met   ' : 'MISSED'} ${name}: ${figure}`),
    '',
    method,
  ].join('\n');
  const markdown = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    drainLine,
    '',
    ...targets.map(([name, met, figure]) => `- ${met ? 'met' : '**missed**'}: ${name} — ${figure}`),
    '',
    method,
  ].join('\n');
  return { terminal, markdown };
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`bench: ${(error as Error).message}`);
  if (process.env.QUICKDEAL_DEBUG) console.error(error);
  return 1;
});
// Open handles (kafkajs timers, keep-alive sockets) must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode), 500).unref();
