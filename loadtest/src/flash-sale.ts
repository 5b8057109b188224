import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { arrivalSchedule } from './arrivals.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import type { FlashSalePlan } from './plan.js';
import { Random } from './random.js';
import { TransportError, type LoadRequest, type LoadResponse, type Transport } from './transport.js';

export type Endpoint = 'ticket' | 'status' | 'checkout' | 'pay' | 'cancel';

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
  intent: Intent;
  /** When the shopper was meant to arrive, ms after the start. */
  arrivalMs: number;
  /** The ticket the shopper holds (the token), its queue number, and how many 201 answers gave them a ticket. */
  ticket: string | undefined;
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
  dealId: string;
  runId: string;
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

const apiBase = '/api/v1/deals';
const maxConsecutiveErrors = 5;

/** Ranks of ticket statuses: a later answer must never rank below an earlier one. */
export const statusRank: Record<string, number> = {
  ACCESS_DENIED: 0,
  ACCESS_GRANTED: 1,
  ITEM_SOLD_OUT: 2,
  ACCESS_EXPIRED: 2,
  PURCHASED: 2,
};

function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The open-model flash-sale generator. Shoppers arrive on a schedule fixed in advance, whatever
 * the answers; each takes a ticket, polls when `pollAfterMs` says, and once admitted pays,
 * cancels or walks away. Every latency runs from the moment a request was meant to go out.
 */
export class FlashSaleGenerator {
  private readonly plan: FlashSalePlan;
  private readonly latency = new LatencyRecorder();
  private readonly lag = new LatencyRecorder();
  private readonly answers: Record<string, Record<string, number>> = {};
  private readonly perSecond: SecondCounts[] = [];
  private readonly shoppers: ShopperRecord[];
  private readonly think: Float64Array;
  private readonly declineFirst: Uint8Array;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: (ran: boolean) => void }>();
  /** Aborted when the run ends: what is still queued or in flight is abandoned, and nothing after it is recorded. */
  private readonly ended = new AbortController();
  private t0 = 0;
  private startedAt = 0;
  private stopped = false;
  private inFlight = 0;
  private ticketsOutstanding = 0;
  private journeys = 0;
  private dispatched = 0;
  private dropped = 0;
  private ticketsServed = 0;
  private abandoned = 0;

  constructor(private readonly options: GeneratorOptions) {
    this.plan = options.plan;
    const random = new Random(this.plan.seed);
    const n = this.plan.shoppers;
    this.shoppers = new Array<ShopperRecord>(n);
    this.think = new Float64Array(n);
    this.declineFirst = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const draw = random.next();
      const intent: Intent = draw < this.plan.pay ? 'pay' : draw < this.plan.pay + this.plan.cancel ? 'cancel' : 'walk';
      this.think[i] = random.between(this.plan.thinkMs[0], this.plan.thinkMs[1]);
      this.declineFirst[i] = intent === 'pay' && random.next() < this.plan.decline ? 1 : 0;
      this.shoppers[i] = {
        shopperId: `${options.runId}-${i}`, intent, arrivalMs: 0, ticket: undefined, queueNumber: undefined, created: 0,
        distinctTickets: 0, statuses: [], admittedSeenMs: undefined, outcome: undefined, endedMs: undefined,
      };
    }
  }

  progress(): GeneratorProgress {
    return {
      elapsedMs: this.now(), dispatched: this.dispatched, dropped: this.dropped, inFlight: this.inFlight,
      shoppersActive: this.journeys, ticketsServed: this.ticketsServed,
    };
  }

  /** Milliseconds since time zero. */
  now(): number {
    return performance.now() - this.t0;
  }

  async run(): Promise<GeneratorResult> {
    const schedule = arrivalSchedule(this.plan.shoppers, this.plan.arrivalRate, this.plan.arrivalProfile, new Random(this.plan.seed + 1));
    const arrivalSpanMs = schedule[schedule.length - 1] ?? 0;
    this.t0 = performance.now();
    this.startedAt = Date.now();
    let next = 0;
    let arrivalsDone = false;
    const drive = () => {
      const now = this.now();
      while (next < schedule.length && (schedule[next] as number) <= now && !this.stopped) {
        this.arrive(next, schedule[next] as number, now);
        next++;
      }
      if (next < schedule.length && !this.stopped) setTimeout(drive, Math.max(0, (schedule[next] as number) - this.now()));
      else arrivalsDone = true;
    };
    drive();

    const endReason = await new Promise<GeneratorResult['endReason']>((resolve) => {
      let checking = false;
      let lastCheck = 0;
      const monitor = setInterval(() => {
        const now = this.now();
        if (arrivalsDone && this.journeys === 0) return finish('finished');
        if (this.options.signal?.aborted) return finish('interrupted');
        if (now >= this.plan.maxDurationMs) return finish('max-duration');
        if (this.options.settled && arrivalsDone && this.ticketsOutstanding === 0 && !checking && now - lastCheck >= 1_000) {
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
    const durationMs = this.now();
    this.stop();
    const until = performance.now() + 10_000;
    while (this.inFlight > 0 && performance.now() < until) await sleep(20);
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
      latency: this.latency.summaries(),
      abandoned: this.abandoned,
      answers: this.answers,
      perSecond: this.perSecond,
    };
  }

  private stop(): void {
    this.stopped = true;
    this.ended.abort();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake(false);
    }
    this.sleepers.clear();
  }

  private second(ms: number): SecondCounts {
    const index = Math.max(0, Math.floor(ms / 1000));
    while (this.perSecond.length <= index) this.perSecond.push({ arrivals: 0, ticketsServed: 0, turnedAway: 0, requests: 0, errors: 0 });
    return this.perSecond[index] as SecondCounts;
  }

  /** Resolves true at `atMs` (ms after time zero), or false at once when the run stops. */
  private sleepUntil(atMs: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve(true);
        }, Math.max(0, atMs - this.now())),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  private arrive(index: number, intendedMs: number, nowMs: number): void {
    const shopper = this.shoppers[index] as ShopperRecord;
    shopper.arrivalMs = intendedMs;
    this.second(intendedMs).arrivals++;
    this.lag.record('send-lag', nowMs - intendedMs);
    if (this.inFlight >= this.plan.maxInFlight) {
      this.dropped++;
      shopper.outcome = 'dropped';
      return;
    }
    this.dispatched++;
    this.journeys++;
    this.journey(index, intendedMs)
      .catch((error: unknown) => {
        this.options.log?.(`shopper ${shopper.shopperId}: ${(error as Error).message}`);
        shopper.outcome ??= 'failed';
      })
      .finally(() => {
        this.journeys--;
        shopper.endedMs ??= this.now();
      });
  }

  /** Sends one request meant to go out at `intendedMs`; records its latency from then and its answer. */
  private async call(endpoint: Endpoint, intendedMs: number, request: LoadRequest): Promise<LoadResponse | TransportError> {
    this.inFlight++;
    const second = this.second(this.now());
    second.requests++;
    let stopped = false;
    try {
      const response = await this.options.transport.send(request, this.plan.timeoutMs, this.ended.signal);
      if (this.stopped) {
        // Answered after the run ended (the truth may already be being read): not recorded.
        stopped = true;
        return new TransportError('STOPPED', 'the run ended first');
      }
      const code = response.status >= 400 ? errorCodeOf(response.body) : undefined;
      this.count(endpoint, code ? `${response.status} ${code}` : String(response.status));
      if (response.status >= 400 && response.status !== 410 && response.status !== 429) second.errors++;
      return response;
    } catch (error) {
      const failure = error instanceof TransportError ? error : new TransportError('ERROR', (error as Error).message);
      stopped = failure.code === 'STOPPED';
      if (!stopped) {
        this.count(endpoint, failure.code);
        second.errors++;
      }
      return failure;
    } finally {
      // A request the end of the run abandoned has no latency to speak of; it is counted apart.
      if (stopped) this.abandoned++;
      else this.latency.record(endpoint, this.now() - intendedMs);
      this.inFlight--;
    }
  }

  private count(endpoint: string, key: string): void {
    const counts = (this.answers[endpoint] ??= {});
    counts[key] = (counts[key] ?? 0) + 1;
  }

  private headers(shopper: ShopperRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { 'x-user-id': shopper.shopperId, ...(shopper.ticket ? { authorization: `Bearer ${shopper.ticket}` } : {}), ...extra };
  }

  private observe(shopper: ShopperRecord, status: string): void {
    if (shopper.statuses[shopper.statuses.length - 1] !== status) shopper.statuses.push(status);
  }

  private async journey(index: number, arrivalMs: number): Promise<void> {
    const shopper = this.shoppers[index] as ShopperRecord;
    const path = `${apiBase}/${this.options.dealId}`;
    let answer = await this.takeTicket(shopper, arrivalMs);
    if (!answer) return;
    let errors = 0;
    for (;;) {
      const answeredMs = this.now();
      const body = answer.body as { status?: string; pollAfterMs?: number };
      const status = body.status ?? '';
      this.observe(shopper, status);
      switch (status) {
        case 'ACCESS_GRANTED':
          shopper.admittedSeenMs ??= answeredMs;
          return this.checkout(index, shopper, answeredMs);
        case 'ITEM_SOLD_OUT':
          shopper.outcome = 'sold_out';
          return;
        case 'PURCHASED':
          shopper.outcome = 'purchased';
          return;
        case 'ACCESS_EXPIRED':
          shopper.outcome = 'access_expired';
          return;
      }
      // Still in line (or a retry after an error): poll again when told.
      let intendedMs = answeredMs + Math.max(50, body.pollAfterMs ?? 1_000);
      for (;;) {
        if (!(await this.sleepUntil(intendedMs))) {
          shopper.outcome = 'still_polling';
          return;
        }
        const polled = await this.call('status', intendedMs, { method: 'GET', path: `${path}/tickets/status`, headers: this.headers(shopper) });
        if (!(polled instanceof TransportError) && polled.status === 200) {
          answer = polled;
          errors = 0;
          break;
        }
        if (!(polled instanceof TransportError) && polled.status === 401 && errorCodeOf(polled.body) === 'TICKET_EXPIRED') {
          shopper.outcome = 'ticket_expired';
          return;
        }
        if (polled instanceof TransportError || polled.status !== 429) errors++;
        if (errors >= maxConsecutiveErrors) {
          shopper.outcome = 'failed';
          return;
        }
        intendedMs = this.now() + this.retryDelayMs(polled, errors);
      }
    }
  }

  /** When to try again after an answer that was not the one hoped for: Retry-After when given, else backing off 1, 2, 4 … 16 s, as a browser's page script would. */
  private retryDelayMs(answer: LoadResponse | TransportError, attempt: number): number {
    if (!(answer instanceof TransportError) && answer.retryAfterS !== undefined) return Math.max(0.2, answer.retryAfterS) * 1_000;
    return Math.min(16_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  }

  /**
   * POST …/tickets, retried like the waiting-room page does: on 429 for as long as the shopper is
   * asked to come back (honouring Retry-After), on 503 or no answer up to 4 attempts in all.
   * Returns the answer that gave a ticket.
   */
  private async takeTicket(shopper: ShopperRecord, arrivalMs: number): Promise<LoadResponse | undefined> {
    let intendedMs = arrivalMs;
    this.ticketsOutstanding++;
    try {
      for (let attempt = 1, failures = 0; ; attempt++) {
        const answer = await this.call('ticket', intendedMs, { method: 'POST', path: `${apiBase}/${this.options.dealId}/tickets`, headers: this.headers(shopper), lane: 'tickets' });
        if (!(answer instanceof TransportError)) {
          if (answer.status === 201 || answer.status === 200) {
            const body = answer.body as { ticket?: string; queueNumber?: number };
            if (answer.status === 201) shopper.created++;
            if (body.ticket && body.ticket !== shopper.ticket) shopper.distinctTickets++;
            shopper.ticket = body.ticket;
            shopper.queueNumber = body.queueNumber;
            this.second(this.now()).ticketsServed++;
            this.ticketsServed++;
            return answer;
          }
          const code = errorCodeOf(answer.body);
          if (answer.status === 410) {
            this.second(this.now()).turnedAway++;
            shopper.outcome = 'turned_away';
            return undefined;
          }
          if (answer.status === 409 && code === 'ALREADY_PURCHASED') {
            shopper.outcome = 'already_purchased';
            return undefined;
          }
          if (answer.status !== 429 && answer.status !== 503) {
            shopper.outcome = 'failed';
            return undefined;
          }
        }
        const askedToWait = !(answer instanceof TransportError) && answer.status === 429;
        if (!askedToWait) failures++;
        if (failures >= 4 || this.stopped) {
          shopper.outcome = this.stopped ? 'unfinished' : 'failed';
          return undefined;
        }
        intendedMs = this.now() + this.retryDelayMs(answer, askedToWait ? attempt : failures);
        if (!(await this.sleepUntil(intendedMs))) return undefined;
      }
    } finally {
      this.ticketsOutstanding--;
    }
  }

  /** An admitted shopper: looks at the checkout, then pays, cancels, or walks away. */
  private async checkout(index: number, shopper: ShopperRecord, admittedMs: number): Promise<void> {
    if (shopper.intent === 'walk') {
      shopper.outcome = 'walked_away';
      return;
    }
    const path = `${apiBase}/${this.options.dealId}`;
    let intendedMs = admittedMs + (this.think[index] as number) / 2;
    if (!(await this.sleepUntil(intendedMs))) return;
    const page = await this.call('checkout', intendedMs, { method: 'GET', path: `${path}/checkout`, headers: this.headers(shopper), lane: 'checkouts' });
    if (!(page instanceof TransportError) && page.status !== 200) {
      shopper.outcome = page.status === 410 ? 'checkout_expired' : 'failed';
      return;
    }
    intendedMs = this.now() + (this.think[index] as number) / 2;
    if (!(await this.sleepUntil(intendedMs))) return;

    if (shopper.intent === 'cancel') {
      const answer = await this.call('cancel', intendedMs, { method: 'DELETE', path: `${path}/checkout`, headers: this.headers(shopper), lane: 'checkouts' });
      if (answer instanceof TransportError) shopper.outcome = answer.code === 'STOPPED' ? 'unfinished' : 'failed';
      else if (answer.status === 204) shopper.outcome = 'cancelled';
      else shopper.outcome = answer.status === 410 ? 'checkout_expired' : 'failed';
      return;
    }

    let card = this.declineFirst[index] ? 'tok_decline' : 'tok_approve';
    let payment = 1;
    for (let attempt = 1; attempt <= 6; attempt++) {
      const answer = await this.call('pay', intendedMs, {
        method: 'POST',
        path: `${path}/orders`,
        lane: 'checkouts',
        headers: this.headers(shopper, { 'content-type': 'application/json', 'idempotency-key': `${shopper.shopperId}-pay-${payment}` }),
        body: JSON.stringify({ paymentMethod: { token: card } }),
      });
      if (!(answer instanceof TransportError)) {
        const code = errorCodeOf(answer.body);
        if (answer.status === 201) {
          shopper.outcome = 'purchased';
          this.observe(shopper, 'PURCHASED');
          return;
        }
        if (answer.status === 402) {
          card = 'tok_approve'; // another card, a new payment
          payment++;
        } else if (answer.status === 410) {
          shopper.outcome = code === 'ITEM_SOLD_OUT' ? 'sold_out' : 'checkout_expired';
          return;
        } else if (answer.status === 409 && code === 'ALREADY_PURCHASED') {
          shopper.outcome = 'purchased';
          return;
        } else if (answer.status !== 409 && answer.status !== 503 && answer.status !== 429) {
          shopper.outcome = 'failed';
          return;
        }
      }
      intendedMs = this.now() + (answer instanceof TransportError || answer.status !== 402 ? this.retryDelayMs(answer, attempt) : (this.think[index] as number));
      if (!(await this.sleepUntil(intendedMs))) return;
    }
    shopper.outcome = 'failed';
  }
}
