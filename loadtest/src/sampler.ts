import { setTimeout as sleep } from 'node:timers/promises';
import type { DealStore } from '@quickdeal/core';
import { cpuSeconds, residentMemory, servesFromChildren } from './proc.js';

/** The deal as Redis saw it at one moment of the run. */
export interface TimelinePoint {
  /** Seconds after the run's time zero. */
  t: number;
  waiting: number;
  active: number;
  sold: number;
  admitted: number;
}

/** What one process of the stack used during the run. */
export interface ProcessUsage {
  name: string;
  pid: number;
  /** The highest resident set size sampled during the run. */
  peakRssMiB: number;
  /** The kernel's high-water mark of the resident set over the process's whole life (VmHWM). */
  lifetimePeakMiB: number;
  /** CPU time (user + system; Postgres with its backends) spent during the run, and that as cores busy on average. */
  cpuSeconds: number;
  cores: number;
}

/**
 * Samples each deal's counters from Redis (one snapshot script per deal and tick) and the services'
 * memory from /proc, for the chart and the cap check. Ticks never overlap; a slow Redis skips a tick.
 */
export class RunSampler {
  /** Each deal's counters over time, and its active count alone (the cap check's evidence). */
  readonly points = new Map<string, TimelinePoint[]>();
  readonly activeSamples = new Map<string, number[]>();
  private readonly memory = new Map<number, ProcessUsage>();
  private readonly cpuAtStart = new Map<number, number>();
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly store: DealStore,
    private readonly dealIds: string[],
    private readonly processes: Array<{ name: string; pid: number }>,
    private readonly intervalMs = 250,
  ) {
    for (const dealId of dealIds) {
      this.points.set(dealId, []);
      this.activeSamples.set(dealId, []);
    }
    for (const p of processes)
      this.memory.set(p.pid, { name: p.name, pid: p.pid, peakRssMiB: 0, lifetimePeakMiB: 0, cpuSeconds: 0, cores: 0 });
  }

  start(t0: number): void {
    this.startedAt = Date.now();
    for (const p of this.processes) this.cpuAtStart.set(p.pid, cpuSeconds([p.pid], { withChildren: servesFromChildren(p.name) }));
    this.timer = setInterval(() => void this.tick(t0), this.intervalMs);
    void this.tick(t0);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(10);
    this.sampleMemory();
    const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    for (const p of this.processes) {
      const usage = this.memory.get(p.pid);
      if (!usage) continue;
      if (!residentMemory(p.pid)) {
        this.memory.delete(p.pid); // ended during the run (a fault drill killed it): its CPU time went with it
        continue;
      }
      usage.cpuSeconds = cpuSeconds([p.pid], { withChildren: servesFromChildren(p.name) }) - (this.cpuAtStart.get(p.pid) ?? 0);
      usage.cores = usage.cpuSeconds / seconds;
    }
  }

  /** The latest sample of every deal, added up (for progress lines). */
  latest(): Omit<TimelinePoint, 't'> | undefined {
    const last = [...this.points.values()].map((points) => points[points.length - 1]).filter((p) => p !== undefined);
    if (last.length === 0) return undefined;
    const sum = (field: 'waiting' | 'active' | 'sold' | 'admitted') => last.reduce((total, p) => total + p[field], 0);
    return { waiting: sum('waiting'), active: sum('active'), sold: sum('sold'), admitted: sum('admitted') };
  }

  usage(): ProcessUsage[] {
    return [...this.memory.values()].map((m) => ({
      ...m,
      peakRssMiB: round(m.peakRssMiB),
      lifetimePeakMiB: round(m.lifetimePeakMiB),
      cpuSeconds: round(m.cpuSeconds),
      cores: Math.round(m.cores * 100) / 100,
    }));
  }

  private sampleMemory(): void {
    for (const p of this.processes) {
      const now = residentMemory(p.pid);
      const peak = this.memory.get(p.pid);
      if (!now || !peak) continue;
      peak.peakRssMiB = Math.max(peak.peakRssMiB, now.rssMiB);
      peak.lifetimePeakMiB = Math.max(peak.lifetimePeakMiB, now.hwmMiB);
    }
  }

  private async tick(t0: number): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.sampleMemory();
      await Promise.all(
        this.dealIds.map(async (dealId) => {
          try {
            const s = await this.store.snapshot(dealId);
            this.points.get(dealId)?.push({
              t: (Date.now() - t0) / 1000,
              waiting: Math.max(0, s.lastQueueNumber - s.served),
              active: s.active,
              sold: s.sold,
              admitted: s.admitted,
            });
            this.activeSamples.get(dealId)?.push(s.active);
          } catch {
            // a missed sample only thins the chart
          }
        }),
      );
    } finally {
      this.busy = false;
    }
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
