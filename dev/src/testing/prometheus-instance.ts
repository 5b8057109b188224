/**
 * A Prometheus of a test's own: Debian's binary (installed by dev/src/servers/prometheus.ts) on a
 * free port, with its own config and data in a temporary directory, scraping the targets the test
 * names, so nothing else reconfigures or stops it while the test runs; `stop()` ends it and
 * removes its data.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { installPrometheus, type ScrapeJob } from '../servers/prometheus.js';

export interface PrometheusInstance {
  url: string;
  /** An instant query; throws with Prometheus's message when it refuses the expression. */
  query(promql: string, time?: Date): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The values a label takes on the series `match` selects (what Grafana's label_values() asks). */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Waits until every target was scraped successfully at least once since `since`. */
  waitForScrapes(since: Date, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `port`: a free port on 127.0.0.1 for its web API. */
export async function startPrometheus(jobs: ScrapeJob[], options: { port: number; scrapeInterval?: string }): Promise<PrometheusInstance> {
  const binary = await installPrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'qd-prometheus-'));
  const { port } = options;
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: options.scrapeInterval ?? '1s', scrape_timeout: '1s' },
      scrape_configs: jobs.map(({ job, targets }) => ({ job_name: job, static_configs: [{ targets }] })),
    }),
  );
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Prometheus exited at start: ${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`Prometheus was not ready in 30 s: ${log}`);
    await sleep(100);
  }

  return {
    url,
    async query(promql, time = new Date()) {
      const params = new URLSearchParams({ query: promql, time: String(time.getTime() / 1000) });
      const data = await api<{ resultType: string; result: unknown }>(`/api/v1/query?${params}`);
      if (data.resultType === 'scalar' || data.resultType === 'string') {
        return [{ metric: {}, value: data.result as [number, string] }];
      }
      return data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    },
    async labelValues(label, match) {
      return api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values?${new URLSearchParams({ 'match[]': match })}`);
    },
    async waitForScrapes(since, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const targets = await api<{ activeTargets: Array<{ health: string; lastScrape: string; scrapeUrl: string; lastError: string }> }>(
          '/api/v1/targets',
        );
        const stale = targets.activeTargets.filter((t) => t.health !== 'up' || Date.parse(t.lastScrape) <= since.getTime());
        if (targets.activeTargets.length > 0 && stale.length === 0) return;
        if (Date.now() > until)
          throw new Error(`Prometheus has not scraped ${stale.map((t) => `${t.scrapeUrl} (${t.health} ${t.lastError})`).join(', ')}`);
        await sleep(250);
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
