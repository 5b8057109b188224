import { performance } from 'node:perf_hooks';

/**
 * A run's time: milliseconds since its time zero, sleeps until a moment of it, and its end, which
 * wakes every sleeper at once (false: the run stopped) and aborts what is in flight.
 */
export class RunClock {
  private t0: number | undefined;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: (ran: boolean) => void }>();
  private readonly ended = new AbortController();

  /** Starts the run's time; given an epoch time already past, time zero is then (the run is that far in). */
  start(at: number = Date.now()): void {
    this.t0 = performance.now() - Math.max(0, Date.now() - at);
  }

  get started(): boolean {
    return this.t0 !== undefined;
  }

  /** Milliseconds since time zero (0 until it has come). */
  now(): number {
    return this.t0 === undefined ? 0 : performance.now() - this.t0;
  }

  get stopped(): boolean {
    return this.ended.signal.aborted;
  }

  /** Aborted when the run ends: what is still queued or in flight is abandoned. */
  get signal(): AbortSignal {
    return this.ended.signal;
  }

  /** Resolves true at `atMs` (ms after time zero), or false at once when the run stops. */
  sleepUntil(atMs: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(
          () => {
            this.sleepers.delete(sleeper);
            resolve(true);
          },
          Math.max(0, atMs - this.now()),
        ),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  stop(): void {
    this.ended.abort();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake(false);
    }
    this.sleepers.clear();
  }
}
