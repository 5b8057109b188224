import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { LatencyRecorder, type LatencySummary } from '../latency.js';
import { TransportError, type LoadRequest, type LoadResponse, type Transport } from '../transport.js';

/** One measured run of one path. */
export interface Measurement {
  /** Answers with a 2xx status per second: the throughput. */
  okPerSecond: number;
  requests: number;
  ok: number;
  seconds: number;
  /** Answers by status (`200`, `429`, `TIMEOUT`, …). */
  statuses: Record<string, number>;
  latency: LatencySummary;
}

/** Makes the i-th request; undefined when there is nothing left to send (a path with a fixed set of shoppers). */
export type RequestMaker = (i: number) => LoadRequest | undefined;

interface Tally {
  latency: LatencyRecorder;
  statuses: Record<string, number>;
  requests: number;
  ok: number;
}

const newTally = (): Tally => ({ latency: new LatencyRecorder(), statuses: {}, requests: 0, ok: 0 });

function note(tally: Tally, answer: LoadResponse | TransportError, ms: number): void {
  const key = answer instanceof TransportError ? answer.code : String(answer.status);
  tally.statuses[key] = (tally.statuses[key] ?? 0) + 1;
  tally.requests++;
  if (!(answer instanceof TransportError) && answer.status >= 200 && answer.status < 300) tally.ok++;
  tally.latency.record('all', ms);
}

async function send(transport: Transport, request: LoadRequest, timeoutMs: number): Promise<LoadResponse | TransportError> {
  try {
    return await transport.send(request, timeoutMs);
  } catch (error) {
    return error instanceof TransportError ? error : new TransportError('ERROR', (error as Error).message);
  }
}

function measurement(tally: Tally, seconds: number): Measurement {
  return {
    okPerSecond: Math.round(tally.ok / seconds),
    requests: tally.requests,
    ok: tally.ok,
    seconds: Math.round(seconds * 100) / 100,
    statuses: tally.statuses,
    latency: tally.latency.summary('all'),
  };
}

/**
 * Closed loop (as autocannon runs by default): `connections` workers each send the next request as
 * soon as the last one was answered, for `durationMs` after `warmupMs`. Gives the throughput.
 */
export async function closedLoop(
  transport: Transport,
  options: {
    connections: number;
    durationMs: number;
    warmupMs?: number;
    timeoutMs?: number;
    request: RequestMaker;
    onAnswer?: (i: number, answer: LoadResponse | TransportError) => void;
  },
): Promise<Measurement> {
  const warmupEnd = performance.now() + (options.warmupMs ?? 0);
  const end = warmupEnd + options.durationMs;
  let measuredTo = warmupEnd;
  const tally = newTally();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const started = performance.now();
      if (started >= end) return;
      const i = next++;
      const request = options.request(i);
      if (!request) return;
      const answer = await send(transport, request, options.timeoutMs ?? 30_000);
      const done = performance.now();
      options.onAnswer?.(i, answer);
      // Only requests started after the warm-up count, over the time from its end to the last answer.
      if (started >= warmupEnd) {
        note(tally, answer, done - started);
        measuredTo = Math.max(measuredTo, done);
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  return measurement(tally, Math.max(0.001, (measuredTo - warmupEnd) / 1000));
}

/**
 * Open loop at a fixed rate: request i is meant to go at i/rate seconds whatever the answers, and
 * its latency runs from then (corrected for coordinated omission). Gives the latency at that load.
 */
export async function openLoop(
  transport: Transport,
  options: { ratePerSecond: number; durationMs: number; timeoutMs?: number; request: RequestMaker },
): Promise<Measurement> {
  const tally = newTally();
  const total = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  const t0 = performance.now();
  const pending = new Set<Promise<void>>();
  let next = 0;
  await new Promise<void>((resolve) => {
    const drive = () => {
      const now = performance.now() - t0;
      while (next < total && (next * 1000) / options.ratePerSecond <= now) {
        const intended = (next * 1000) / options.ratePerSecond;
        const request = options.request(next++);
        if (!request) {
          next = total;
          break;
        }
        const flight = send(transport, request, options.timeoutMs ?? 30_000).then((answer) => {
          note(tally, answer, performance.now() - t0 - intended);
          pending.delete(flight);
        });
        pending.add(flight);
      }
      if (next < total) setTimeout(drive, Math.max(0, (next * 1000) / options.ratePerSecond - (performance.now() - t0)));
      else resolve();
    };
    drive();
  });
  await Promise.all(pending);
  return measurement(tally, Math.max(0.001, (performance.now() - t0) / 1000));
}

/** A closed-loop run by autocannon: throughput, and latency at saturation (2xx answers only, as autocannon records them). */
export interface CannonMeasurement {
  okPerSecond: number;
  requests: number;
  ok: number;
  seconds: number;
  statuses: Record<string, number>;
  latency: { p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
}

/**
 * Closed loop with autocannon (the tool of DESIGN.md's performance notes; it drives far more load
 * from one core than undici can, so a fast baseline is not capped by the generator): `connections`
 * connections, each sending its next request as soon as the last was answered, for `durationMs`,
 * or until `amount` requests. `request(i)` makes each request, so every one can differ.
 */
export async function cannon(options: {
  url: string;
  connections: number;
  durationMs?: number;
  amount?: number;
  request: (i: number) => LoadRequest;
}): Promise<CannonMeasurement> {
  let next = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: (options.durationMs ?? 10_000) / 1000 }),
    timeout: 30,
    requests: [
      {
        setupRequest: (request) => {
          const made = options.request(next++);
          return { ...request, method: made.method, path: made.path, headers: made.headers, body: made.body };
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count ?? 0;
  if (result.timeouts > 0) statuses.TIMEOUT = result.timeouts;
  if (result.errors - result.timeouts > 0) statuses.ERROR = result.errors - result.timeouts;
  return {
    okPerSecond: Math.round(result['2xx'] / result.duration),
    requests: result.requests.total,
    ok: result['2xx'],
    seconds: result.duration,
    statuses,
    latency: {
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      meanMs: Math.round(result.latency.mean * 100) / 100,
    },
  };
}
