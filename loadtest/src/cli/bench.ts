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
import { parseDuration } from '@quickdeal/core';
import { endpoints, type ProfileName } from '../../../dev/src/profiles.js';
import { repoRoot } from '../../../dev/src/paths.js';
import { closedLoop, openLoop, type Measurement, type RequestMaker } from '../bench/drivers.js';
import { appendResults, describeMachine, machineFacts } from '../machine.js';
import { httpTransport, TransportError, type LoadRequest, type LoadResponse, type Transport } from '../transport.js';
import { createLoadDeal, freshDealId, removeLoadDeals } from './deal.js';
import { connectClients, ensureStack, waitForAdmission, type StackClients } from './stack.js';

const loadtestDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Options {
  durationMs: number;
  warmupMs: number;
  connections: number;
  openShare: number;
  drainRounds: number;
  payShoppers: number;
  pollTickets: number;
  repeat: number;
}

interface PathResult {
  name: string;
  /** The median closed-loop run, and every run's throughput. */
  closed: Measurement;
  runs: number[];
  open: Measurement & { ratePerSecond: number };
}

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const n = (value: number) => Math.round(value).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

/**
 * Each path's closed loop `repeat` times, the paths interleaved round by round so that a machine
 * busier at one moment (it is shared) does not favour one path; the median run counts. Then each
 * path's open loop, at a share of its median throughput, for the latency under a steady load.
 */
async function measureInterleaved(paths: Array<{ name: string; transport: Transport; request: RequestMaker }>, options: Options): Promise<PathResult[]> {
  const runs = paths.map(() => [] as Measurement[]);
  for (let round = 1; round <= options.repeat; round++) {
    for (const [i, path] of paths.entries()) {
      const closed = await closedLoop(path.transport, { connections: options.connections, durationMs: options.durationMs, warmupMs: options.warmupMs, request: path.request });
      runs[i]?.push(closed);
      log(`round ${round}/${options.repeat}: ${path.name}: ${n(closed.okPerSecond)}/s (p50 ${closed.latency.p50Ms} ms, p99 ${closed.latency.p99Ms} ms)`);
    }
  }
  const results: PathResult[] = [];
  for (const [i, path] of paths.entries()) {
    const sorted = [...(runs[i] ?? [])].sort((a, b) => a.okPerSecond - b.okPerSecond);
    const closed = sorted[Math.floor(sorted.length / 2)] as Measurement;
    const ratePerSecond = Math.max(1, Math.round(closed.okPerSecond * options.openShare));
    log(`${path.name}: open loop at ${n(ratePerSecond)}/s …`);
    const open = await openLoop(path.transport, { ratePerSecond, durationMs: options.durationMs, request: path.request });
    results.push({ name: path.name, closed, runs: (runs[i] ?? []).map((m) => m.okPerSecond), open: { ...open, ratePerSecond } });
  }
  return results;
}

/** Takes tickets for `count` new shoppers as fast as it can (not measured); returns shopper → ticket. */
async function takeTickets(transport: Transport, origin: string, dealId: string, prefix: string, count: number, connections: number) {
  const tickets: Array<{ shopperId: string; ticket: string }> = [];
  await closedLoop(transport, {
    connections,
    durationMs: 600_000,
    request: (i) => (i < count ? { method: 'POST', path: `/api/v1/deals/${dealId}/tickets`, headers: { 'x-user-id': `${prefix}-${i}` } } : undefined),
    onAnswer: (i, answer) => {
      const ticket = (answer as LoadResponse).body as { ticket?: string } | undefined;
      if (!(answer instanceof TransportError) && answer.status === 201 && ticket?.ticket) tickets.push({ shopperId: `${prefix}-${i}`, ticket: ticket.ticket });
    },
  });
  if (tickets.length < count) throw new Error(`only ${tickets.length} of ${count} tickets were issued by ${origin}`);
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
 * Admission drain: with the cap full and a line behind it, frees all `cap` checkouts at once (the
 * same script a cancel runs) and measures how long until every slot is filled again, from the
 * first release to the last admission's own timestamp.
 */
async function drainRounds(clients: StackClients, dealId: string, cap: number, rounds: number): Promise<number[]> {
  const { store } = clients;
  await waitUntil('the first checkouts filling the cap', async () => (await store.snapshot(dealId)).active === cap);
  const fills: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const trail = await store.admissions(dealId);
    const qnOf = new Map(trail.map((a) => [a.shopperId, a.queueNumber]));
    const active = (await store.redis.zrange(`qd:{${dealId}}:active`, '0', '-1')) as string[];
    await sleep(300); // let the consumer settle into its blocked state
    const target = trail.length + active.length;
    const t0 = Date.now();
    const released = await Promise.all(active.map((shopperId) => store.releaseCheckout(dealId, shopperId, qnOf.get(shopperId) ?? 0)));
    const releasedMs = Date.now() - t0;
    if (released.some((r) => r !== 'released')) throw new Error('a checkout could not be released');
    await waitUntil(`refilling ${active.length} slots`, async () => (await store.redis.llen(`qd:{${dealId}}:admissions`)) >= target, 30_000);
    const refill = (await store.admissions(dealId)).slice(trail.length, target);
    const fillMs = Math.max(...refill.map((a) => a.admittedAt)) - t0;
    fills.push(fillMs);
    log(`admission drain round ${round}: ${active.length} slots freed in ${releasedMs} ms, all filled after ${fillMs} ms`);
  }
  return fills;
}

function ratio(a: number, b: number): string {
  return b > 0 ? (a / b).toFixed(2) : '—';
}

function formatTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5s' },
      warmup: { type: 'string', default: '1s' },
      connections: { type: 'string', default: '50' },
      'open-share': { type: 'string', default: '0.5' },
      'drain-rounds': { type: 'string', default: '3' },
      'pay-shoppers': { type: 'string', default: '4000' },
      'poll-tickets': { type: 'string', default: '20000' },
      repeat: { type: 'string', default: '3' },
      profile: { type: 'string', default: 'dev' },
      'keep-stack': { type: 'boolean' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench -- [--duration 5s] [--warmup 1s] [--repeat 3] [--connections 50] [--open-share 0.5]
                       [--poll-tickets 20000] [--pay-shoppers 4000] [--drain-rounds 3]
                       [--profile dev|test] [--keep-stack] [--no-record]`);
    return 0;
  }
  const options: Options = {
    durationMs: parseDuration(values.duration),
    warmupMs: parseDuration(values.warmup),
    connections: Number(values.connections),
    openShare: Number(values['open-share']),
    drainRounds: Number(values['drain-rounds']),
    payShoppers: Number(values['pay-shoppers']),
    pollTickets: Number(values['poll-tickets']),
    repeat: Math.max(1, Number(values.repeat)),
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
  const created: string[] = [];
  let baseline: { url: string; child: ChildProcess } | undefined;
  const transports: Transport[] = [];
  const http = (origin: string) => {
    const transport = httpTransport(() => origin, { connections: options.connections });
    transports.push(transport);
    return transport;
  };
  try {
    baseline = await startBaseline();
    const day = 24 * 3_600_000;
    await createLoadDeal(target, outDir, deals.issue, { stock: 10_000_000, cap: 1_000, windowMs: 1_200_000, ticketTtlMs: day, paused: true, product: 'Bench: issue and poll' });
    created.push(deals.issue);
    await createLoadDeal(target, outDir, deals.pay, { stock: 10_000_000, cap: 1_000_000, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: payment' });
    created.push(deals.pay);
    await createLoadDeal(target, outDir, deals.drain, { stock: 10_000_000, cap: 1_000, windowMs: 1_200_000, ticketTtlMs: day, product: 'Bench: admission drain' });
    created.push(deals.drain);
    log('bench deals applied; waiting for the admission consumers to pick them up …');
    await waitForAdmission(clients.kafka, Object.values(deals).map((d) => `quickdeal.tickets.${d}`));

    const bare = http(baseline.url);
    const ticketing = http(stack.ticketingUrl);
    const payment = http(stack.paymentUrl);
    // A poll's headers, so the bare route parses requests of the same size.
    const sample = (await takeTickets(ticketing, stack.ticketingUrl, deals.issue, `${runId}-sample`, 1, 1))[0] as { shopperId: string; ticket: string };
    const pollHeaders = (shopperId: string, ticket: string) => ({ 'x-user-id': shopperId, authorization: `Bearer ${ticket}` });

    // Polls: real tickets of a paused deal (every shopper still in line: the in-memory path), each
    // polled well under the 20-per-10-s limit; one warm pass first, as shoppers poll many times.
    log(`status poll: taking ${n(options.pollTickets)} tickets to poll with, and polling each once …`);
    const tickets = await takeTickets(ticketing, stack.ticketingUrl, deals.issue, `${runId}-p`, options.pollTickets, options.connections);
    await closedLoop(ticketing, { connections: options.connections, durationMs: 600_000, request: (i) => (i < tickets.length ? pollRequest(deals.issue, tickets[i], pollHeaders) : undefined) });
    let polled = 0;
    let signed = 0;
    let issuedCount = 0;
    const paths: Array<{ name: string; transport: Transport; request: RequestMaker }> = [
      { name: 'bare Hono route (fixed JSON)', transport: bare, request: () => ({ method: 'GET', path: '/bare', headers: pollHeaders(sample.shopperId, sample.ticket) }) },
      { name: 'sign-only Hono route (jose EdDSA)', transport: bare, request: () => ({ method: 'POST', path: '/sign', headers: { 'x-user-id': `${runId}-sign-${signed++}` } }) },
      { name: 'ticket issue (POST …/tickets)', transport: ticketing, request: () => ({ method: 'POST', path: `/api/v1/deals/${deals.issue}/tickets`, headers: { 'x-user-id': `${runId}-i-${issuedCount++}` } }) },
      { name: 'status poll (GET …/tickets/status)', transport: ticketing, request: () => pollRequest(deals.issue, tickets[polled++ % tickets.length], pollHeaders) },
    ];
    const results = await measureInterleaved(paths, options);

    // Payment: shoppers admitted in advance (cap and stock far above them), each paying once.
    const openShoppers = Math.max(500, Math.round(options.payShoppers / 2));
    log(`payment: admitting ${n(options.payShoppers + openShoppers)} shoppers first …`);
    const payers = await takeTickets(ticketing, stack.ticketingUrl, deals.pay, `${runId}-pay`, options.payShoppers + openShoppers, options.connections);
    await waitUntil('admitting the payers', async () => (await clients.store.snapshot(deals.pay)).active >= payers.length);
    const payRequest = (shopper: { shopperId: string; ticket: string } | undefined): LoadRequest | undefined =>
      shopper && {
        method: 'POST',
        path: `/api/v1/deals/${deals.pay}/orders`,
        headers: { ...pollHeaders(shopper.shopperId, shopper.ticket), 'content-type': 'application/json', 'idempotency-key': `${shopper.shopperId}-order` },
        body: '{"paymentMethod":{"token":"tok_approve"}}',
      };
    log(`payment (POST …/orders): closed loop, ${options.connections} connections, ${n(options.payShoppers)} shoppers paying once …`);
    const payClosed = await closedLoop(payment, { connections: options.connections, durationMs: options.durationMs * 3, request: (i) => payRequest(i < options.payShoppers ? payers[i] : undefined) });
    const payRate = Math.max(1, Math.round(payClosed.okPerSecond * options.openShare));
    log(`payment: ${n(payClosed.okPerSecond)}/s; open loop at ${n(payRate)}/s …`);
    const payOpen = await openLoop(payment, { ratePerSecond: payRate, durationMs: Math.min(options.durationMs, (openShoppers / payRate) * 1000), request: (i) => payRequest(payers[options.payShoppers + i]) });
    results.push({ name: 'payment (POST …/orders)', closed: payClosed, runs: [payClosed.okPerSecond], open: { ...payOpen, ratePerSecond: payRate } });

    // Admission drain: a line of (rounds + 1) × cap shoppers behind a full cap.
    const cap = 1_000;
    log(`admission drain: queueing ${n(cap * (options.drainRounds + 1))} shoppers behind a cap of ${n(cap)} …`);
    await takeTickets(ticketing, stack.ticketingUrl, deals.drain, `${runId}-d`, cap * (options.drainRounds + 1), options.connections);
    const fills = await drainRounds(clients, deals.drain, cap, options.drainRounds);

    const text = summarize(results, fills, options);
    console.log(`\n${text.terminal}\n`);
    if (!values['no-record']) {
      appendResults(join(loadtestDir, 'RESULTS.md'), `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — benchmark\n\n` +
        `\`npm run bench -- ${argv.join(' ')}\`; ${describeMachine(facts)}; the whole stack and the generator on this machine.\n\n${text.markdown}`);
      log('appended to loadtest/RESULTS.md');
    }
    return 0;
  } finally {
    for (const transport of transports) await transport.close().catch(() => undefined);
    baseline?.child.kill('SIGTERM');
    if (created.length > 0) await removeLoadDeals(target, created).catch((error: unknown) => log(`could not remove the bench deals: ${(error as Error).message}`));
    await clients.close();
    if (!values['keep-stack']) await stack.stop();
  }
}

function pollRequest(dealId: string, shopper: { shopperId: string; ticket: string } | undefined, headers: (s: string, t: string) => Record<string, string>): LoadRequest | undefined {
  return shopper && { method: 'GET', path: `/api/v1/deals/${dealId}/tickets/status`, headers: headers(shopper.shopperId, shopper.ticket) };
}

/** The figures as a terminal table and as Markdown, with the targets met or missed. */
function summarize(results: PathResult[], fills: number[], options: Options): { terminal: string; markdown: string } {
  const [bare, sign, issue, poll, pay] = results;
  const bareRate = bare?.closed.okPerSecond ?? 0;
  const signRate = sign?.closed.okPerSecond ?? 0;
  const header = ['path', '2xx/s', '× bare', '× sign-only', 'runs', 'p50 ms', 'p99 ms', 'open rate/s', 'open p50', 'open p99', 'open max', 'non-2xx'];
  const rows = results.map((r) => {
    const non2xx = Object.entries({ ...r.closed.statuses, ...Object.fromEntries(Object.entries(r.open.statuses).map(([k, v]) => [k, v + (r.closed.statuses[k] ?? 0)])) })
      .filter(([k]) => !/^2\d\d$/.test(k))
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
    return [
      r.name, n(r.closed.okPerSecond), ratio(r.closed.okPerSecond, bareRate), ratio(r.closed.okPerSecond, signRate),
      r.runs.map(n).join(' / '), String(r.closed.latency.p50Ms), String(r.closed.latency.p99Ms), n(r.open.ratePerSecond),
      String(r.open.latency.p50Ms), String(r.open.latency.p99Ms), String(r.open.latency.maxMs), non2xx || '—',
    ];
  });
  const sorted = [...fills].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const worst = sorted[sorted.length - 1] ?? NaN;
  const pollRatio = (poll?.closed.okPerSecond ?? 0) / bareRate;
  const issueRatio = (issue?.closed.okPerSecond ?? 0) / signRate;
  const targets = [
    [`status poll ≥ 0.8 × bare`, pollRatio >= 0.8, `${pollRatio.toFixed(2)} ×`],
    [`ticket issue ≥ 0.5 × sign-only`, issueRatio >= 0.5, `${issueRatio.toFixed(2)} ×`],
    [`1,000 freed slots filled < 1 s`, worst < 1_000, `median ${median} ms, worst ${worst} ms over ${fills.length} rounds`],
  ] as const;
  const drainLine = `admission drain: 1,000 freed slots filled in ${fills.map((f) => `${f} ms`).join(', ')} (median ${median} ms)`;
  const method = `closed loop: ${options.connections} connections for ${options.durationMs / 1000} s after a ${options.warmupMs / 1000} s warm-up, ` +
    `${options.repeat} runs per path interleaved round by round, the median run shown (throughput, and latency at saturation); ` +
    `open loop: a fixed rate of ${options.openShare} × that path's own throughput for ${options.durationMs / 1000} s, latency from the intended send time. ` +
    `${pay ? `payment: one run, ${n(pay.closed.requests)} admitted shoppers paying once each in the closed loop, ${n(pay.open.requests)} in the open loop. ` : ''}` +
    'Issue, poll and payment go straight to the services (no gateway), like the baselines.';
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
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    drainLine,
    '',
    ...targets.map(([name, met, figure]) => `- ${met ? '✅ met' : '❌ missed'}: ${name} — ${figure}`),
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
setTimeout(() => process.exit(process.exitCode), 500).unref();
