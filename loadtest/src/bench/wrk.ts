/**
 * The bench's wrk rounds: the paths measured again with wrk (2 threads, 50 connections), the
 * generator a peer waiting room reports its figures with, so that QuickDeal's ratios to a bare route
 * can be set beside theirs (enqueue ~0.41 × bare, status ~0.42 × bare). wrk is C and costs the shared
 * cores far less than autocannon, and adds no event-loop delay of its own to each round trip.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installWrk } from '@quickdeal/dev/stack';
import type { LoadRequest } from '../transport.js';
import { median, n, settle, withCpu, type PathId, type ServingPids } from './measure.js';

const run = promisify(execFile);

/** What wrk requests on a path: one fixed request, unique shopper ids, or the polls of a list of shoppers. */
export type WrkRequests =
  | { kind: 'fixed'; request: LoadRequest }
  | { kind: 'unique-shopper'; method: 'POST'; path: string; prefix: string }
  | { kind: 'polls'; path: string; shoppers: Array<{ shopperId: string; ticket: string }> };

export interface WrkPath {
  id: Extract<PathId, 'bare' | 'sign-jose' | 'sign' | 'issue' | 'poll'>;
  name: string;
  url: string;
  servedBy: string[];
  requests: WrkRequests;
}

export interface WrkResult {
  id: WrkPath['id'];
  name: string;
  /** 2xx answers per second in each round, and their median. */
  runs: number[];
  okPerSecond: number;
  cpuUs: number;
}

const lua = (value: string) => JSON.stringify(value); // a JSON string literal is a valid Lua string literal here (no \u escapes in our values)

/** The Lua script that makes a path's requests and prints wrk's summary as one JSON line. */
function script(requests: WrkRequests, shoppersFile: string): string {
  const done = `
function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end`;
  const headerLines = (headers: Record<string, string> = {}) =>
    Object.entries(headers)
      .map(([name, value]) => `wrk.headers[${lua(name)}] = ${lua(value)}`)
      .join('\n');
  // wrk.format sends only the headers it is given: the Host header HTTP/1.1 requires goes in each set.
  const host = `local host = wrk.headers["Host"] or (wrk.host .. ":" .. wrk.port)`;
  switch (requests.kind) {
    case 'fixed':
      return `wrk.method = ${lua(requests.request.method)}\nwrk.path = ${lua(requests.request.path)}\n${headerLines(requests.request.headers)}\n${done}`;
    case 'unique-shopper':
      return `
${host}
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
local count = 0
function request()
  count = count + 1
  return wrk.format(${lua(requests.method)}, ${lua(requests.path)}, { ["Host"] = host, ["x-user-id"] = ${lua(requests.prefix)} .. "-" .. id .. "-" .. count })
end
${done}`;
    case 'polls':
      return `
${host}
local shoppers = {}
for line in io.lines(${lua(shoppersFile)}) do
  local shopper, ticket = line:match("^(%S+) (%S+)$")
  shoppers[#shoppers + 1] = { ["Host"] = host, ["x-user-id"] = shopper, ["authorization"] = "Bearer " .. ticket }
end
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
local next = 0
function request()
  next = next + 1
  return wrk.format("GET", ${lua(requests.path)}, shoppers[((next * 7 + id) % #shoppers) + 1])
end
${done}`;
  }
}

interface WrkSummary {
  requests: number;
  durationUs: number;
  non2xx: number;
  socketErrors: number;
}

/**
 * Each path `rounds` times with wrk, interleaved round by round as the autocannon rounds are; the
 * median round counts. CPU per 2xx answer of the serving processes as in the main bench.
 */
export async function measureWithWrk(
  paths: WrkPath[],
  pids: ServingPids,
  options: { rounds: number; durationSeconds: number; threads: number; connections: number },
  log: (line: string) => void,
): Promise<WrkResult[]> {
  const wrk = await installWrk();
  const dir = mkdtempSync(join(tmpdir(), 'quickdeal-wrk-'));
  try {
    const scripts = paths.map((path, i) => {
      const shoppersFile = join(dir, `shoppers-${i}.txt`);
      if (path.requests.kind === 'polls')
        writeFileSync(shoppersFile, path.requests.shoppers.map((s) => `${s.shopperId} ${s.ticket}\n`).join(''));
      const file = join(dir, `path-${i}.lua`);
      writeFileSync(file, script(path.requests, shoppersFile));
      return file;
    });
    const runs = paths.map(() => [] as Array<{ okPerSecond: number; cpuUs: number }>);
    for (let round = 1; round <= options.rounds; round++) {
      for (const [i, path] of paths.entries()) {
        await settle();
        const { result, cpuUsBy } = await withCpu(path.servedBy, pids, async () => {
          const args = [
            '-t',
            String(options.threads),
            '-c',
            String(options.connections),
            '-d',
            `${options.durationSeconds}s`,
            '-s',
            scripts[i]!,
            path.url,
          ];
          const { stdout } = await run(wrk, args, { maxBuffer: 1 << 20 });
          const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
          if (!line) throw new Error(`wrk printed no summary for ${path.name}:\n${stdout}`);
          const summary = JSON.parse(line) as WrkSummary;
          const ok = summary.requests - summary.non2xx - summary.socketErrors;
          return { ok, okPerSecond: ok / (summary.durationUs / 1e6) };
        });
        const cpuUs = Object.values(cpuUsBy).reduce((a, b) => a + b, 0);
        runs[i]!.push({ okPerSecond: result.okPerSecond, cpuUs });
        log(`wrk round ${round}/${options.rounds}: ${path.name}: ${n(result.okPerSecond)}/s, CPU per answer ${n(cpuUs)} µs`);
      }
    }
    return paths.map((path, i) => ({
      id: path.id,
      name: path.name,
      runs: runs[i]!.map((r) => r.okPerSecond),
      okPerSecond: median(runs[i]!.map((r) => r.okPerSecond)),
      cpuUs: median(runs[i]!.map((r) => r.cpuUs)),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
