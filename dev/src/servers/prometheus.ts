/**
 * Prometheus from Debian's package: only its binary (and promtool beside it). Tests run their own
 * instances of it (dev/src/testing/prometheus-instance.ts); the local stack runs none.
 */
import { ensureAptPackages } from '../apt.js';

export interface ScrapeJob {
  job: string;
  targets: string[]; // host:port, scraped at /metrics
}

const PROMETHEUS = '/usr/bin/prometheus';

/** Installs Prometheus if missing; returns the executable. */
export async function installPrometheus(): Promise<string> {
  await ensureAptPackages('prometheus', ['prometheus']);
  return PROMETHEUS;
}
