/**
 * `npm run bench:ticket-cpu`: CPU time of the ticket path per ticket, counted in-process, beside
 * the sign-only baselines in the same process. On a shared machine throughput swings with the
 * neighbours' load; CPU time per answer moves far less. Ticketing is built as the tests build it
 * (`startWaitingRoom`, on a running profile's Redis and Kafka: dev by default) and its routes are
 * called through Hono's `app.request`, so node:http is left out of every path alike; the sign-only
 * routes are the bench's own (baseline-app.ts). Closed loop, `--connections` requests in flight,
 * the paths interleaved round by round; the median round is printed.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import type { Hono } from 'hono';
import type { ProfileName } from '@quickdeal/dev/profiles';
import { startWaitingRoom } from '@quickdeal/dev/testing';
import { createBaselineApp } from '../bench/baseline-app.js';
import { median } from '../bench/measure.js';

interface Path {
  name: string;
  app: Pick<Hono, 'request'>;
  request: (i: number) => { path: string; init: RequestInit };
  ok: number;
}

/** Sends `count` requests, `connections` at a time; answers the CPU µs of this process per 2xx answer. */
async function run(path: Path, count: number, connections: number, offset: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        const { path: url, init } = path.request(offset + next++);
        const response = await path.app.request(url, init);
        await response.arrayBuffer();
        if (response.status === path.ok) ok++;
      }
    }),
  );
  const cpu = process.cpuUsage(before);
  if (ok < count * 0.99) throw new Error(`${path.name}: only ${ok} of ${count} answers were ${path.ok}`);
  return (cpu.user + cpu.system) / ok;
}

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'dev' },
    tickets: { type: 'string', default: '10000' },
    repeat: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    /** Only the ticket path (e.g. under `node --cpu-prof`): `issue`. */
    only: { type: 'string' },
    /** Writes a CPU profile of the counted rounds (not the warm-up) to this file. */
    'cpu-prof': { type: 'string' },
  },
});
const count = Number(values.tickets);
const connections = Number(values.connections);
const rounds = Number(values.repeat);

const room = await startWaitingRoom({ profile: values.profile as ProfileName, startAdmission: false });
try {
  const { dealId } = await room.createDeal({ stock: 100_000_000, paused: true }); // paused, as the bench's issue deal: nobody is admitted at once;
  const baseline = await createBaselineApp();
  const post = (path: string, shopperId: string) => ({ path, init: { method: 'POST', headers: { 'X-User-Id': shopperId } } });
  const paths: Path[] = [
    { name: 'sign-only (jose)', app: baseline, request: (i) => post('/sign-jose', `s${i}`), ok: 201 },
    { name: 'sign-only (node:crypto)', app: baseline, request: (i) => post('/sign', `s${i}`), ok: 201 },
    { name: 'ticket issue', app: room.ticketing, request: (i) => post(`/api/v1/deals/${dealId}/tickets`, `shopper-${i}`), ok: 201 },
  ];
  if (values.only === 'issue') paths.splice(0, 2);
  const results = new Map(paths.map((p) => [p.name, [] as number[]]));
  for (const path of paths) await run(path, Math.min(2_000, count), connections, 0); // warm-up, not counted
  const profiler = values['cpu-prof'] ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  for (let round = 1; round <= rounds; round++) {
    for (const path of paths) {
      const us = await run(path, count, connections, round * count);
      results.get(path.name)?.push(us);
      console.log(`round ${round}/${rounds}: ${path.name}: ${us.toFixed(1)} µs CPU per answer`);
    }
  }
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(values['cpu-prof'] as string, JSON.stringify(profile));
    profiler.disconnect();
  }
  const of = (name: string) => median(results.get(name) ?? [NaN]);
  const issue = of('ticket issue');
  const batches = await room.metrics.ticketing.produceBatchSize.get();
  const sum = batches.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const n = batches.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  console.log(
    `\nmedians over ${rounds} rounds of ${count} answers, ${connections} in flight: ` +
      paths.map((p) => `${p.name} ${of(p.name).toFixed(1)} µs`).join(', ') +
      `\nticket issue = ${(issue / of('sign-only (jose)')).toFixed(2)} × sign-only (jose), ${(issue / of('sign-only (node:crypto)')).toFixed(2)} × sign-only (node:crypto); ` +
      `produce batches of ${(sum / Math.max(1, n)).toFixed(1)} tickets on average`,
  );
} finally {
  await room.close();
}
setTimeout(() => process.exit(process.exitCode), 500).unref();
