/**
 * The bench's measurements of a path: closed loops interleaved round by round, the CPU time of the
 * processes that serve them, then an open loop at a share of the throughput.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, servesFromChildren } from '../proc.js';
import { httpTransport, type LoadRequest } from '../transport.js';
import { cannon, openLoop, type CannonMeasurement, type Measurement } from './drivers.js';

export interface BenchOptions {
  durationMs: number;
  repeat: number;
  connections: number;
  /** `--crowd-connections`: ticket issue and the jose sign-only route measured again with this many (0: not). */
  crowdConnections: number;
  openShare: number;
  openMaxRate: number;
  pollTickets: number;
  payShoppers: number;
  drainRounds: number;
  /** `--wrk-duration`: how long wrk loads each path in each round. */
  wrkDurationSeconds: number;
}

/** What a path is to the targets and ratios (the summary finds the baselines by it). */
export type PathId = 'bare' | 'sign' | 'sign-jose' | 'issue' | 'poll' | 'poll-via-gateway' | 'payment';

export interface BenchPath {
  id: PathId;
  name: string;
  url: string;
  request: (i: number) => LoadRequest;
  /** The processes that serve it, whose CPU time per answer is measured. */
  servedBy: string[];
}

export interface PathResult {
  id: PathId;
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

export const n = (value: number) => Math.round(value).toLocaleString('en-US');
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The open loop's rate: a share of the closed loop's throughput, at least 1 and at most the cap. */
export const openRate = (okPerSecond: number, options: BenchOptions) =>
  Math.max(1, Math.min(options.openMaxRate, Math.round(okPerSecond * options.openShare)));

/**
 * Brings every run to the same start: the generator's own garbage collected (it runs in this
 * process, node --expose-gc) and a second for the servers to finish what the last run left (Redis
 * fsyncs its log every second). Without it the run after a garbage-heavy one pays for it: polls
 * right after 150,000 ticket requests cost ticketing 76 µs each, 50 µs once the generator's heap
 * was collected first, because its major collections share the two cores (loadtest/RESULTS.md).
 */
export async function settle(): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('the bench must run with node --expose-gc (npm run bench does), to start every run alike');
  collect();
  await sleep(1_000);
}

/**
 * Each path's closed loop `repeat` times, the paths interleaved round by round so that a moment
 * when the (shared) machine is busier does not favour one path; the median run counts. Every run
 * starts settled. The CPU time of the serving processes is read from /proc around each run. Then
 * each path's open loop.
 */
export async function measurePaths(
  paths: BenchPath[],
  pids: ServingPids,
  options: BenchOptions,
  log: (line: string) => void,
): Promise<PathResult[]> {
  log('warming up every path (2 s each, not counted) …');
  for (const path of paths) await cannon({ url: path.url, connections: options.connections, durationMs: 2_000, request: path.request });
  const runs = paths.map(() => [] as Array<{ m: CannonMeasurement; cpuUsBy: Record<string, number> }>);
  for (let round = 1; round <= options.repeat; round++) {
    for (const [i, path] of paths.entries()) {
      await settle();
      const { result: m, cpuUsBy } = await withCpu(path.servedBy, pids, () =>
        cannon({ url: path.url, connections: options.connections, durationMs: options.durationMs, request: path.request }),
      );
      runs[i]?.push({ m, cpuUsBy });
      log(
        `round ${round}/${options.repeat}: ${path.name}: ${n(m.okPerSecond)}/s, CPU per answer ${describeCpu(cpuUsBy)} (p50 ${m.latency.p50Ms} ms, p99 ${m.latency.p99Ms} ms)`,
      );
    }
  }
  const results: PathResult[] = [];
  for (const [i, path] of paths.entries()) {
    const all = runs[i] ?? [];
    const closed = [...all].sort((a, b) => a.m.okPerSecond - b.m.okPerSecond)[Math.floor(all.length / 2)]?.m as CannonMeasurement;
    const ratePerSecond = openRate(closed.okPerSecond, options);
    log(`${path.name}: open loop at ${n(ratePerSecond)}/s …`);
    const transport = httpTransport(() => path.url, { connections: options.connections * 4 });
    await settle();
    const open = await openLoop(transport, { ratePerSecond, durationMs: options.durationMs, request: path.request });
    await transport.close();
    const cpuUsBy = Object.fromEntries(path.servedBy.map((name) => [name, median(all.map((r) => r.cpuUsBy[name] ?? NaN))]));
    results.push({
      id: path.id,
      name: path.name,
      servedBy: path.servedBy,
      closed,
      runs: all.map((r) => r.m.okPerSecond),
      cpuUs: sum(Object.values(cpuUsBy)),
      cpuUsBy,
      open: { ...open, ratePerSecond },
    });
  }
  return results;
}

/** The processes of each kind (`redis` is every Redis node of a cluster profile, `ticketing` both its processes). */
export type ServingPids = Map<string, number[]>;

/** Groups a profile's servers by kind: `redis-1` … `redis-6` are `redis`, `ticketing-1` and `ticketing-2` are `ticketing`. */
export function servingPids(byName: Map<string, number>): ServingPids {
  const grouped: ServingPids = new Map();
  for (const [name, pid] of byName) {
    const kind = name.replace(/-\d+$/, '');
    grouped.set(kind, [...(grouped.get(kind) ?? []), pid]);
  }
  return grouped;
}

/** Runs `work` and reads from /proc how much CPU each kind of process (with its children) spent per 2xx answer, in µs. */
export async function withCpu<T extends { ok: number }>(
  names: string[],
  pids: ServingPids,
  work: () => Promise<T>,
): Promise<{ result: T; cpuUsBy: Record<string, number> }> {
  const read = () =>
    names.map((name) => {
      const group = pids.get(name);
      return group === undefined ? NaN : cpuSeconds(group, { withChildren: servesFromChildren(name) });
    });
  const before = read();
  const result = await work();
  const after = read();
  return {
    result,
    cpuUsBy: Object.fromEntries(
      names.map((name, i) => [name, result.ok > 0 ? (((after[i] ?? NaN) - (before[i] ?? NaN)) * 1e6) / result.ok : NaN]),
    ),
  };
}

export function describeCpu(cpuUsBy: Record<string, number>): string {
  const entries = Object.entries(cpuUsBy);
  const total = `${n(sum(entries.map(([, v]) => v)))} µs`;
  return entries.length > 1 ? `${total} (${entries.map(([name, v]) => `${name} ${n(v)}`).join(' + ')})` : total;
}
