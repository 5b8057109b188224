/** The bench's figures as a terminal table and as Markdown for RESULTS.md, with the targets met or missed. */
import { formatTable } from '@quickdeal/dev/table';
import type { KafkaClientResult } from './kafka-clients.js';
import { describeCpu, median, n, type BenchOptions, type PathId, type PathResult } from './measure.js';
import type { WrkResult } from './wrk.js';

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : '—');

/** A target of issue 13 and how this run did: its name, whether it was met, and the figure. */
type Target = readonly [name: string, met: boolean, figure: string];

const targetLines = (targets: readonly Target[]) => ({
  terminal: targets.map(([name, met, figure]) => `${met ? 'met   ' : 'MISSED'} ${name}: ${figure}`),
  markdown: targets.map(([name, met, figure]) => `- ${met ? 'met' : '**missed**'}: ${name} — ${figure}`),
});

/** One generator's rates (2xx/s) of the paths the throughput targets compare. */
type TargetRates = Record<'bare' | 'signJose' | 'sign' | 'issue' | 'poll', number>;

/** Issue 13's two throughput targets, judged on one generator's rates; `pollCost` is added to the poll's figure. */
function throughputTargets(rate: TargetRates, pollCost?: string): Target[] {
  return [
    ['status poll ≥ 0.8 × bare', rate.poll / rate.bare >= 0.8, `${ratio(rate.poll, rate.bare)} ×${pollCost ? ` (${pollCost})` : ''}`],
    [
      'ticket issue ≥ 0.6 × sign-only (jose)',
      rate.issue / rate.signJose >= 0.6,
      `${ratio(rate.issue, rate.signJose)} × (${ratio(rate.issue, rate.sign)} × the node:crypto sign-only route)`,
    ],
  ];
}

/** The figures as a terminal table and as Markdown, with the targets met or missed. */
export function summarize(results: PathResult[], fills: number[], options: BenchOptions): { terminal: string; markdown: string } {
  const byId = (id: PathId) => results.find((r) => r.id === id);
  const [bare, signJose, sign, issue, poll, payment] = (['bare', 'sign-jose', 'sign', 'issue', 'poll', 'payment'] as const).map(byId);
  const bareRate = bare?.closed.okPerSecond ?? 0;
  const signRate = signJose?.closed.okPerSecond ?? 0;
  const header = [
    'path',
    '2xx/s',
    '× bare',
    '× sign-only (jose)',
    'runs (2xx/s)',
    'CPU µs/answer',
    'CPU × bare',
    'p50 ms',
    'p99 ms',
    'open rate/s',
    'open p50',
    'open p99',
    'open max',
    'non-2xx',
  ];
  const rows = results.map((r) => {
    const statuses: Record<string, number> = { ...r.closed.statuses };
    for (const [k, v] of Object.entries(r.open.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    const non2xx = Object.entries(statuses)
      .filter(([k]) => !/^2\d\d$/.test(k))
      .map(([k, v]) => `${k}×${v}`)
      .join(' ');
    return [
      r.name,
      n(r.closed.okPerSecond),
      ratio(r.closed.okPerSecond, bareRate),
      ratio(r.closed.okPerSecond, signRate),
      r.runs.map(n).join(' / '),
      describeCpu(r.cpuUsBy),
      ratio(r.cpuUs, bare?.cpuUs ?? NaN),
      String(r.closed.latency.p50Ms),
      String(r.closed.latency.p99Ms),
      n(r.open.ratePerSecond),
      String(r.open.latency.p50Ms),
      String(r.open.latency.p99Ms),
      String(r.open.latency.maxMs),
      non2xx || '—',
    ];
  });
  const sortedFills = [...fills].sort((a, b) => a - b);
  const worst = sortedFills[sortedFills.length - 1] ?? NaN;
  const ticketingCpuRatio = (issue?.cpuUsBy.ticketing ?? NaN) / (signJose?.cpuUs ?? NaN);
  const rates = {
    bare: bareRate,
    signJose: signRate,
    sign: sign?.closed.okPerSecond ?? NaN,
    issue: issue?.closed.okPerSecond ?? 0,
    poll: poll?.closed.okPerSecond ?? 0,
  };
  const targets: Target[] = [
    ...throughputTargets(rates, `CPU per answer ${ratio(poll?.cpuUs ?? NaN, bare?.cpuUs ?? NaN)} × the bare route's`),
    [
      "ticketing's CPU per ticket ≤ 1.5 × sign-only (jose)",
      ticketingCpuRatio <= 1.5,
      `${Number.isFinite(ticketingCpuRatio) ? ticketingCpuRatio.toFixed(2) : '—'} × (${n(issue?.cpuUsBy.ticketing ?? NaN)} µs against ${n(signJose?.cpuUs ?? NaN)} µs)`,
    ],
    ['1,000 freed slots filled < 1 s', worst < 1_000, `median ${median(fills)} ms, worst ${worst} ms over ${fills.length} rounds`],
  ];
  const drainLine = `admission drain: 1,000 freed slots filled in ${fills.map((f) => `${n(f)} ms`).join(', ')} (median ${n(median(fills))} ms)`;
  const method =
    `Closed loop (autocannon): ${options.connections} connections for ${options.durationMs / 1000} s, ${options.repeat} runs per path interleaved round by round after a 2 s warm-up, ` +
    "each run settled first (the generator's heap collected, then 1 s for the servers), the median run shown (throughput; latency at saturation, 2xx only). CPU µs/answer: user+system time of each serving process (Postgres with its backends) from /proc over the run, per 2xx answer, median over the runs. " +
    `Open loop (undici): a fixed rate of ${options.openShare} × the path's throughput (at most ${n(options.openMaxRate)}/s) for ${options.durationMs / 1000} s, latency from each request's intended send time. ` +
    `Payment: one run, each admitted shopper paying once (${n(payment?.closed.requests ?? 0)} closed, ${n(payment?.open.requests ?? 0)} open). ` +
    'Issue, poll and payment go straight to the services (no gateway), like the baselines; polls are of shoppers still in line (a paused deal), their tickets verified once before.';
  const terminal = [
    formatTable([header, ...rows], { rightAligned: (column) => column > 0 }),
    '',
    drainLine,
    '',
    ...targetLines(targets).terminal,
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
    ...targetLines(targets).markdown,
    '',
    method,
  ].join('\n');
  return { terminal, markdown };
}

/** Ticket issue beside the jose sign-only route at `--crowd-connections`: for scale, no target. */
export function summarizeCrowd(results: PathResult[], options: BenchOptions): { terminal: string; markdown: string } {
  const signRate = results.find((r) => r.id === 'sign-jose')?.closed.okPerSecond ?? 0;
  const rows = results.map((r) => [
    r.name,
    n(r.closed.okPerSecond),
    ratio(r.closed.okPerSecond, signRate),
    r.runs.map(n).join(' / '),
    describeCpu(r.cpuUsBy),
    String(r.closed.latency.p50Ms),
    String(r.closed.latency.p99Ms),
  ]);
  return tableText(
    `Ticket issue and the jose sign-only route at ${options.crowdConnections} connections`,
    ['path', '2xx/s', '× sign-only (jose)', 'runs (2xx/s)', 'CPU µs/answer', 'p50 ms', 'p99 ms'],
    rows,
    `For scale, no target: the same closed loop with ${options.crowdConnections} connections instead of ${options.connections}, ` +
      "the median of its rounds. With few connections a ticket's three round trips (Redis, Kafka, Redis) bound the door; a crowd fills its batches.",
  );
}

/** The wrk rounds' peer, an open-source Go + Redis waiting room: its paths as ratios to its bare route (issue 13). */
const peer = { enqueue: 0.41, status: 0.42 };

/**
 * The wrk rounds' table, with the same two throughput targets as the autocannon table and the
 * comparison with the peer. The peer's enqueue signs nothing, so the sign-only rows are the ceiling
 * of any door that signs each ticket.
 */
export function summarizeWrk(
  results: WrkResult[],
  options: { rounds: number; durationSeconds: number; threads: number; connections: number },
): { terminal: string; markdown: string } {
  const rate = (id: WrkResult['id']) => results.find((r) => r.id === id)?.okPerSecond ?? NaN;
  const rates: TargetRates = {
    bare: rate('bare'),
    signJose: rate('sign-jose'),
    sign: rate('sign'),
    issue: rate('issue'),
    poll: rate('poll'),
  };
  const { bare, signJose, sign, issue, poll } = rates;
  const peerColumn: Partial<Record<WrkResult['id'], string>> = {
    bare: '1.00 ×',
    issue: `${peer.enqueue.toFixed(2)} × (its enqueue)`,
    poll: `${peer.status.toFixed(2)} × (its status)`,
  };
  const rows = results.map((r) => [
    r.name,
    n(r.okPerSecond),
    ratio(r.okPerSecond, bare),
    ratio(r.okPerSecond, signJose),
    r.runs.map(n).join(' / '),
    `${n(r.cpuUs)} µs`,
    peerColumn[r.id] ?? '—',
  ]);
  const targets: Target[] = [
    ...throughputTargets(rates),
    [`status poll ahead of the peer's status (${peer.status} × its bare route)`, poll / bare > peer.status, `${ratio(poll, bare)} × bare`],
    [
      `ticket issue ahead of the peer's enqueue (${peer.enqueue} × its bare route)`,
      issue / bare > peer.enqueue,
      `${ratio(issue, bare)} × bare; a route that does nothing but sign runs at ${ratio(signJose, bare)} × (jose) and ${ratio(sign, bare)} × (node:crypto)`,
    ],
  ];
  const title = `wrk (${options.threads} threads, ${options.connections} connections, ${options.durationSeconds} s a path, ${options.rounds} interleaved rounds, medians), as the peer measures`;
  const table = tableText(
    title,
    ['path', '2xx/s', '× bare', '× sign-only (jose)', 'runs (2xx/s)', 'CPU µs/answer', 'the peer (Go + Redis), × its bare route'],
    rows,
    'The same paths and servers as the autocannon table, each run settled first. wrk is C: it takes less of the shared cores than autocannon ' +
      "and adds no event-loop delay to a round trip, so a path that waits on round trips (ticket issue) gains against one that only computes. The peer's enqueue signs nothing.",
  );
  const lines = targetLines(targets);
  return { terminal: [table.terminal, '', ...lines.terminal].join('\n'), markdown: [table.markdown, '', ...lines.markdown].join('\n') };
}

/** A table as terminal text and as Markdown, under a title and above a note. */
function tableText(title: string, header: string[], rows: string[][], note: string): { terminal: string; markdown: string } {
  return {
    terminal: [title, formatTable([header, ...rows], { rightAligned: (column) => column > 0 }), '', note].join('\n'),
    markdown: [
      `### ${title}`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
      '',
      note,
    ].join('\n'),
  };
}

interface ProfileFigures {
  profile: string;
  results: PathResult[];
  fills: number[];
}

/** The cost of replication: each path on the cluster profile as a ratio of the same path on the single box, both measured in this run. */
export function compareProfiles(single: ProfileFigures, cluster: ProfileFigures): { terminal: string; markdown: string } {
  const header = [
    'path',
    `${single.profile} 2xx/s`,
    `${cluster.profile} 2xx/s`,
    'throughput ×',
    `${single.profile} CPU µs`,
    `${cluster.profile} CPU µs`,
    'CPU ×',
    `${single.profile} p50 ms`,
    `${cluster.profile} p50 ms`,
  ];
  const rows = single.results.map((a) => {
    const b = cluster.results.find((r) => r.name === a.name);
    return [
      a.name,
      n(a.closed.okPerSecond),
      n(b?.closed.okPerSecond ?? NaN),
      ratio(b?.closed.okPerSecond ?? NaN, a.closed.okPerSecond),
      n(a.cpuUs),
      n(b?.cpuUs ?? NaN),
      ratio(b?.cpuUs ?? NaN, a.cpuUs),
      String(a.closed.latency.p50Ms),
      String(b?.closed.latency.p50Ms ?? '—'),
    ];
  });
  rows.push([
    'admission drain (median fill, ms)',
    n(median(single.fills)),
    n(median(cluster.fills)),
    ratio(median(single.fills), median(cluster.fills)),
    '',
    '',
    '',
    '',
    '',
  ]);
  return tableText(
    `${cluster.profile} profile ÷ ${single.profile} profile, same generator, same run`,
    header,
    rows,
    `Each profile's paths hit one process directly (on ${cluster.profile}: ticketing-1, payment-1); CPU is every process of each kind that served the path ` +
      `(on ${cluster.profile}: all three Kafka brokers and all six Redis nodes, so replication's work counts). The baselines are the same code on both, so their ratio shows the machine's drift between the two halves of the run.`,
  );
}

/** The two Kafka clients side by side. */
export function summarizeKafkaClients(results: KafkaClientResult[], profile: string): { terminal: string; markdown: string } {
  const [first] = results;
  const header = ['client', 'messages/s', '× kafkajs', 'runs', 'client CPU µs/message', 'batch p50 ms', 'batch p99 ms'];
  const rows = results.map((r) => [
    r.client,
    n(r.messagesPerSecond),
    ratio(r.messagesPerSecond, first?.messagesPerSecond ?? NaN),
    r.runs.map(n).join(' / '),
    r.cpuUsPerMessage.toFixed(1),
    r.batchP50Ms.toFixed(2),
    r.batchP99Ms.toFixed(2),
  ]);
  return tableText(
    `Kafka clients on the ${profile} profile's brokers`,
    header,
    rows,
    'Ticket-sized messages to one single-partition topic, idempotent producer, acks=all, batches of 100 with one batch in flight (as ticketing sends them); ' +
      'the clients interleaved round by round, the median round shown; CPU is the bench process itself over the round.',
  );
}
