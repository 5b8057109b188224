import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openingSchedule } from './arrivals.js';
import { RunClock } from './flash-sale/clock.js';
import { ShopperJourney } from './flash-sale/shopper.js';
import { Traffic } from './flash-sale/traffic.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import type { FlashSalePlan } from './plan.js';
import { assignDeals } from './popularity.js';
import { Random } from './random.js';
import type { Transport } from './transport.js';

export type Endpoint = 'ticket' | 'challenge' | 'prequeue' | 'status' | 'checkout' | 'pay' | 'cancel';

/** What the shopper does once admitted, drawn before the run from the seed. */
export type Intent = 'pay' | 'cancel' | 'walk';

/** How a shopper's visit ended, as the shopper saw it. */
export type ShopperOutcome =
  | 'purchased'
  | 'cancelled'
  | 'walked_away'
  | 'sold_out' // told ITEM_SOLD_OUT while holding a ticket
  | 'turned_away' // 410 ITEM_SOLD_OUT when asking for a ticket
  | 'ticket_expired'
  | 'checkout_expired'
  | 'access_expired'
  | 'already_purchased'
  | 'dropped' // the generator could not send the arrival (too many requests outstanding)
  | 'failed' // gave up after errors
  | 'still_polling' // waiting for their next poll when the run stopped (after a settled sale: would have been told sold out)
  | 'unfinished'; // stopped in the middle of something else

export interface ShopperRecord {
  shopperId: string;
  /** The deal the shopper came for. */
  dealId: string;
  intent: Intent;
  /** When the shopper was meant to arrive, ms after the start. */
  arrivalMs: number;
  /** The ticket the shopper holds (the token), its queue number, and how many 201 answers gave them a ticket. */
  ticket: string | undefined;
  /** Whether the shopper joined the pre-queue before the open, and the pre-queue ticket they were given. */
  prequeued: boolean;
  prequeueTicket: string | undefined;
  /** 429 answers the shopper met, on any request. */
  busyAnswers: number;
  /** Proof-of-work challenges the shopper solved. */
  proofsSolved: number;
  queueNumber: number | undefined;
  created: number;
  distinctTickets: number;
  /** Every status the API reported to this shopper, consecutive repeats folded. */
  statuses: string[];
  admittedSeenMs: number | undefined;
  outcome: ShopperOutcome | undefined;
  endedMs: number | undefined;
}

export interface SecondCounts {
  arrivals: number;
  ticketsServed: number;
  turnedAway: number;
  requests: number;
  errors: number;
}

export interface GeneratorResult {
  /** Epoch ms of the run's time zero (the first intended arrival). */
  startedAt: number;
  arrivalSpanMs: number;
  durationMs: number;
  endReason: 'finished' | 'settled' | 'max-duration' | 'interrupted';
  shoppers: ShopperRecord[];
  dispatched: number;
  dropped: number;
  /** How late the generator sent arrivals against their schedule: its own health. */
  sendLag: LatencySummary;
  /** Requests still queued or in flight when the run ended, abandoned unanswered (not in the latencies). */
  abandoned: number;
  latency: Record<string, LatencySummary>;
  /** Answers by endpoint: `201`, `410 ITEM_SOLD_OUT`, `TIMEOUT`, … */
  answers: Record<string, Record<string, number>>;
  perSecond: SecondCounts[];
}

export interface GeneratorOptions {
  plan: FlashSalePlan;
  transport: Transport;
  /** The deals opening together, most popular first (one for a single-deal run); the shoppers spread over them by the plan's Zipf popularity. */
  dealIds: string[];
  runId: string;
  /** When the run's time zero is (epoch ms): the generator waits for it (a pre-queue run starts its clock `plan.preOpenMs` before the open). Now when not given. */
  startAt?: number;
  /**
   * Asked about once a second once every arrival was sent and answered: true when the deal has
   * nothing left to do (the line drained and no checkout is open), so the run can end without
   * waiting for every shopper's next poll.
   */
  settled?: () => Promise<boolean>;
  /** Ends the run early (Ctrl-C); what was done so far is still checked. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** Where a run stands, for progress lines. */
export interface GeneratorProgress {
  elapsedMs: number;
  dispatched: number;
  dropped: number;
  inFlight: number;
  shoppersActive: number;
  ticketsServed: number;
}

/** Ranks of ticket statuses: a later answer must never rank below an earlier one. */
export const statusRank: Record<string, number> = {
  PREQUEUED: -1,
  ACCESS_DENIED: 0,
  ACCESS_GRANTED: 1,
  ITEM_SOLD_OUT: 2,
  ACCESS_EXPIRED: 2,
  PURCHASED: 2,
};

/**
 * The open-model flash-sale generator: shoppers arrive on a schedule fixed in advance, whatever
 * the answers (one dropped when too many requests are outstanding), each on its own journey
 * (flash-sale/shopper.ts); the run ends when every journey has, when the deal settles, on
 * interruption or at the time limit. Every latency runs from the moment a request was meant to go out.
 */
export class FlashSaleGenerator {
  private readonly plan: FlashSalePlan;
  private readonly clock = new RunClock();
  private readonly traffic: Traffic;
  private readonly lag = new LatencyRecorder();
  private readonly shoppers: ShopperRecord[];
  private readonly think: Float64Array;
  private readonly declineFirst: Uint8Array;
  private startedAt = 0;
  private journeys = 0;
  private dispatched = 0;
  private dropped = 0;

  constructor(private readonly options: GeneratorOptions) {
    this.plan = options.plan;
    this.traffic = new Traffic(options.transport, this.clock, this.plan.timeoutMs);
    const random = new Random(this.plan.seed);
    const n = this.plan.shoppers;
    // A generator of its own, so that a single-deal run draws exactly what it did before deals existed.
    const dealOf = assignDeals(n, options.dealIds.length, this.plan.zipf, new Random(this.plan.seed + 2));
    this.shoppers = new Array<ShopperRecord>(n);
    this.think = new Float64Array(n);
    this.declineFirst = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const draw = random.next();
      const intent: Intent = draw < this.plan.pay ? 'pay' : draw < this.plan.pay + this.plan.cancel ? 'cancel' : 'walk';
      this.think[i] = random.between(this.plan.thinkMs[0], this.plan.thinkMs[1]);
      this.declineFirst[i] = intent === 'pay' && random.next() < this.plan.decline ? 1 : 0;
      this.shoppers[i] = {
        shopperId: `${options.runId}-${i}`,
        dealId: options.dealIds[dealOf[i] as number] as string,
        intent,
        arrivalMs: 0,
        ticket: undefined,
        prequeued: false,
        prequeueTicket: undefined,
        busyAnswers: 0,
        proofsSolved: 0,
        queueNumber: undefined,
        created: 0,
        distinctTickets: 0,
        statuses: [],
        admittedSeenMs: undefined,
        outcome: undefined,
        endedMs: undefined,
      };
    }
  }

  progress(): GeneratorProgress {
    return {
      elapsedMs: this.clock.now(),
      dispatched: this.dispatched,
      dropped: this.dropped,
      inFlight: this.traffic.inFlight,
      shoppersActive: this.journeys,
      ticketsServed: this.traffic.ticketsServed,
    };
  }

  async run(): Promise<GeneratorResult> {
    const schedule = openingSchedule(this.plan, new Random(this.plan.seed + 1));
    const arrivalSpanMs = schedule[schedule.length - 1] ?? 0;
    const { startAt } = this.options;
    if (startAt !== undefined && startAt > Date.now()) await sleep(startAt - Date.now());
    this.startedAt = startAt ?? Date.now();
    this.clock.start(this.startedAt);
    const arrivals = this.sendArrivals(schedule);
    const endReason = await this.untilTheEnd(arrivals);
    const durationMs = this.clock.now();
    this.clock.stop();
    const until = performance.now() + 10_000;
    while (this.traffic.inFlight > 0 && performance.now() < until) await sleep(20);
    for (const shopper of this.shoppers) {
      if (shopper.outcome === undefined) shopper.outcome = 'unfinished';
    }
    return {
      startedAt: this.startedAt,
      arrivalSpanMs,
      durationMs,
      endReason,
      shoppers: this.shoppers,
      dispatched: this.dispatched,
      dropped: this.dropped,
      sendLag: this.lag.summary('send-lag'),
      latency: this.traffic.latency.summaries(),
      abandoned: this.traffic.abandoned,
      answers: this.traffic.answers,
      perSecond: this.traffic.perSecond,
    };
  }

  /** Sends each arrival at its time (timers, not a loop: the journeys run meanwhile); `done` once all were sent or the run stopped. */
  private sendArrivals(schedule: ArrayLike<number>): { done: boolean } {
    const arrivals = { done: false };
    let next = 0;
    const drive = () => {
      const now = this.clock.now();
      while (next < schedule.length && (schedule[next] as number) <= now && !this.clock.stopped) {
        this.arrive(next, schedule[next] as number, now);
        next++;
      }
      if (next < schedule.length && !this.clock.stopped) setTimeout(drive, Math.max(0, (schedule[next] as number) - this.clock.now()));
      else arrivals.done = true;
    };
    drive();
    return arrivals;
  }

  /** Watches the run ten times a second until it ends, and says why it did. */
  private untilTheEnd(arrivals: { done: boolean }): Promise<GeneratorResult['endReason']> {
    return new Promise((resolve) => {
      let checking = false;
      let lastCheck = 0;
      const monitor = setInterval(() => {
        const now = this.clock.now();
        if (arrivals.done && this.journeys === 0) return finish('finished');
        if (this.options.signal?.aborted) return finish('interrupted');
        if (now >= this.plan.maxDurationMs) return finish('max-duration');
        if (this.options.settled && arrivals.done && this.traffic.ticketsOutstanding === 0 && !checking && now - lastCheck >= 1_000) {
          checking = true;
          lastCheck = now;
          this.options.settled().then(
            (settled) => {
              checking = false;
              if (settled) finish('settled');
            },
            () => (checking = false),
          );
        }
      }, 100);
      const finish = (reason: GeneratorResult['endReason']) => {
        clearInterval(monitor);
        resolve(reason);
      };
    });
  }

  private arrive(index: number, intendedMs: number, nowMs: number): void {
    const shopper = this.shoppers[index] as ShopperRecord;
    shopper.arrivalMs = intendedMs;
    this.traffic.second(intendedMs).arrivals++;
    this.lag.record('send-lag', nowMs - intendedMs);
    if (this.traffic.inFlight >= this.plan.maxInFlight) {
      this.dropped++;
      shopper.outcome = 'dropped';
      return;
    }
    this.dispatched++;
    this.journeys++;
    const draws = { thinkMs: this.think[index] as number, declineFirst: this.declineFirst[index] === 1 };
    const journey = { clock: this.clock, traffic: this.traffic, dealId: shopper.dealId, proofOfWork: this.plan.proofOfWork > 0 };
    new ShopperJourney(journey, shopper, draws)
      .run(intendedMs)
      .catch((error: unknown) => {
        this.options.log?.(`shopper ${shopper.shopperId}: ${(error as Error).message}`);
        shopper.outcome ??= 'failed';
      })
      .finally(() => {
        this.journeys--;
        shopper.endedMs ??= this.clock.now();
      });
  }
}
