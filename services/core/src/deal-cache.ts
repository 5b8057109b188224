import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from './clock.js';
import { subscribeToDealEvents, type DealEventsSubscription } from './deal-events.js';
import type { DealSnapshot } from './deal-types.js';
import type { Logger } from './logger.js';
import type { RedisClient } from './redis/connect.js';
import type { DealStore } from './redis/deal-store.js';

interface TrackedDeal {
  snapshot: DealSnapshot;
  lastUsed: number;
  /** (time, admitted so far) samples over the last minute, for the admission rate */
  samples: Array<[number, number]>;
  refreshing?: Promise<void>;
}

const rateWindowMs = 30_000;
const forgetAfterMs = 5 * 60_000;

/**
 * Deals as this process knows them, served from memory: refreshed from Redis every few hundred
 * milliseconds and at once when a deal's pub/sub channel says it changed. Polls of shoppers who
 * are still waiting are answered from here without touching Redis or Postgres.
 */
export class DealCache {
  private readonly deals = new Map<string, TrackedDeal>();
  private readonly missing: LRUCache<string, true>;
  private timer: NodeJS.Timeout | undefined;
  private events: DealEventsSubscription | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly store: DealStore,
    private readonly subscriber: RedisClient,
    private readonly options: { refreshMs?: number; logger?: Logger; clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.missing = new LRUCache({ max: 10_000, ttl: options.refreshMs ?? 250 });
  }

  async start(): Promise<void> {
    this.events = await subscribeToDealEvents(this.subscriber, (dealId) => {
      this.missing.delete(dealId);
      if (this.deals.has(dealId)) void this.refresh(dealId);
    });
    this.timer = setInterval(() => this.refreshAll(), this.options.refreshMs ?? 250);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.events?.unsubscribe();
  }

  /**
   * The deal's latest state when this cache follows it already, with no promise (the poll's path);
   * undefined when it does not exist, or is not followed yet: ask `get`.
   */
  known(dealId: string): DealSnapshot | undefined {
    const tracked = this.deals.get(dealId);
    if (!tracked) return undefined;
    tracked.lastUsed = this.clock.now();
    return tracked.snapshot.exists ? tracked.snapshot : undefined;
  }

  /** The deal's latest known state, or undefined when no such deal exists. */
  async get(dealId: string): Promise<DealSnapshot | undefined> {
    if (this.deals.has(dealId)) return this.known(dealId);
    if (this.missing.has(dealId)) return undefined;
    const snapshot = await this.store.snapshot(dealId);
    if (!snapshot.exists) {
      this.missing.set(dealId, true);
      return undefined;
    }
    const now = this.clock.now();
    this.deals.set(dealId, { snapshot, lastUsed: now, samples: [[now, snapshot.admitted]] });
    return snapshot;
  }

  /** Admissions per second over the last half minute (0 when none). */
  admissionRate(dealId: string): number {
    const samples = this.deals.get(dealId)?.samples;
    if (!samples || samples.length < 2) return 0;
    const [firstAt, firstCount] = samples[0] as [number, number];
    const [lastAt, lastCount] = samples[samples.length - 1] as [number, number];
    return lastAt > firstAt ? ((lastCount - firstCount) * 1000) / (lastAt - firstAt) : 0;
  }

  /** Re-reads a deal now (coalescing concurrent calls). */
  refresh(dealId: string): Promise<void> {
    const tracked = this.deals.get(dealId);
    if (!tracked) return Promise.resolve();
    tracked.refreshing ??= this.store
      .snapshot(dealId)
      .then((snapshot) => {
        const now = this.clock.now();
        tracked.snapshot = snapshot;
        tracked.samples.push([now, snapshot.admitted]);
        while (tracked.samples.length > 2 && (tracked.samples[0] as [number, number])[0] < now - rateWindowMs) tracked.samples.shift();
      })
      .catch((error: unknown) => this.options.logger?.warn({ err: error, dealId }, 'deal refresh failed; serving the last known state'))
      .finally(() => {
        tracked.refreshing = undefined;
      });
    return tracked.refreshing;
  }

  private refreshAll(): void {
    const now = this.clock.now();
    for (const [dealId, tracked] of this.deals) {
      if (now - tracked.lastUsed > forgetAfterMs) this.deals.delete(dealId);
      else void this.refresh(dealId);
    }
  }
}
