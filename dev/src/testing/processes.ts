/** Processes and HTTP endpoints a test starts and waits for: free ports, child processes with their output kept, probes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import { eventually } from './eventually.js';

export { freePort } from '../ports.js';

/** Starts a process with its output kept (printed when a test fails to start it). */
export function startProcess(command: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, output: () => output, exited };
}

/** A TypeScript entry point of the repo, run as the services run in development. */
export function nodeEntry(entry: string): [string, string[]] {
  return [process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', join(repoRoot, entry)]];
}

/** Waits until an HTTP endpoint answers 200. */
export function waitForHttp(url: string, what: string, alive: () => boolean = () => true, timeoutMs = 60_000): Promise<true> {
  return eventually(
    what,
    async () => {
      if (!alive()) throw new Error(`${what}: the process exited`);
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      return response?.ok ? true : undefined;
    },
    timeoutMs,
  );
}

/** A sample's value from Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
