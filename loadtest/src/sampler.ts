import { readFileSync } from 'node:fs';
import type { DealStore } from '@quickdeal/core';

/** The deal as Redis saw it at one moment of the run. */
export interface TimelinePoint {
  /** Seconds after the run's time zero. */
  t: number;
  waiting: number;
  active: number;
  sold: number;
  admitted: number;
}

export interface ProcessMemory {
  name: string;
  pid: number;
  /** The highest resident set size sampled during the run. */
  peakRssMiB: number;
  /** The kernel's high-water mark of the resident set over the process's whole life (VmHWM). */
  lifetimePeakMiB: number;
}

/** Resident set size and its high-water mark of a process, in MiB, from /proc (undefined when gone). */
export function residentMemory(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Samples the deal's counters from Redis (one snapshot script per tick) and the services' memory
 * from /proc, for the chart and the cap check. Ticks never overlap; a slow Redis skips a tick.
 */
export class RunSampler {
  readonly points: TimelinePoint[] = [];
  readonly activeSamples: number[] = [];
  private readonly memory = new Map<number, ProcessMemory>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly store: DealStore,
    private readonly dealId: string,
    private readonly processes: Array<{ name: string; pid: number }>,
    private readonly intervalMs = 250,
  ) {
    for (const p of processes) this.memory.set(p.pid, { name: p.name, pid: p.pid, peakRssMiB: 0, lifetimePeakMiB: 0 });
  }

  start(t0: number): void {
    this.timer = setInterval(() => void this.tick(t0), this.intervalMs);
    void this.tick(t0);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 10));
    this.sampleMemory();
  }

  memoryPeaks(): ProcessMemory[] {
    return [...this.memory.values()].map((m) => ({ ...m, peakRssMiB: round(m.peakRssMiB), lifetimePeakMiB: round(m.lifetimePeakMiB) }));
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
      const s = await this.store.snapshot(this.dealId);
      this.points.push({ t: (Date.now() - t0) / 1000, waiting: Math.max(0, s.lastQueueNumber - s.served), active: s.active, sold: s.sold, admitted: s.admitted });
      this.activeSamples.push(s.active);
    } catch {
      // a missed sample only thins the chart
    } finally {
      this.busy = false;
    }
  }
}

const round = (value: number) => Math.round(value * 10) / 10;
