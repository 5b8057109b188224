import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

const empty: LatencySummary = { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0 };

/**
 * Latency histograms by name (Node's own HDR histogram, 3 significant figures, microseconds).
 * Callers record from the moment a request was MEANT to be sent, not when it went out, so a
 * stalled server or generator shows up in the figures instead of hiding (coordinated omission).
 */
export class LatencyRecorder {
  private readonly histograms = new Map<string, RecordableHistogram>();

  record(name: string, ms: number): void {
    let histogram = this.histograms.get(name);
    if (!histogram) {
      histogram = createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 });
      this.histograms.set(name, histogram);
    }
    histogram.record(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
  }

  summary(name: string): LatencySummary {
    const h = this.histograms.get(name);
    if (!h || h.count === 0) return { ...empty };
    const ms = (micros: number) => Math.round(micros) / 1000;
    return {
      count: h.count,
      p50Ms: ms(h.percentile(50)),
      p95Ms: ms(h.percentile(95)),
      p99Ms: ms(h.percentile(99)),
      maxMs: ms(h.max),
      meanMs: ms(h.mean),
    };
  }

  summaries(): Record<string, LatencySummary> {
    return Object.fromEntries([...this.histograms.keys()].sort().map((name) => [name, this.summary(name)]));
  }
}
