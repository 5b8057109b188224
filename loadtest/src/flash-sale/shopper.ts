import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import type { ShopperRecord } from '../flash-sale.js';
import { TransportError, type LoadResponse } from '../transport.js';
import type { RunClock } from './clock.js';
import { retryDelayMs } from './page-retry.js';
import { errorCodeOf, type Traffic } from './traffic.js';

const apiBase = '/api/v1/deals';
const maxConsecutiveErrors = 5;

/** What a shopper's journey goes through: the run's clock and traffic, and the deal. */
export interface JourneyContext {
  clock: RunClock;
  traffic: Traffic;
  dealId: string;
  /** The deal asks every ticket request for a solved proof-of-work challenge (a shopper also learns it from a 428). */
  proofOfWork?: boolean;
}

/** The header a ticket request carries its solved challenge in (ticketing's proof-of-work.ts). */
const proofOfWorkHeader = 'x-proof-of-work';

/**
 * One shopper's visit, as the waiting room's pages make it: takes a ticket, polls when
 * `pollAfterMs` says, and once admitted looks at the checkout and pays, cancels or walks away.
 * What happened is written to the shopper's record as it goes.
 */
export class ShopperJourney {
  private readonly path: string;
  private needsProof: boolean;

  constructor(
    private readonly context: JourneyContext,
    private readonly shopper: ShopperRecord,
    /** How long the shopper thinks on the checkout page, and whether their first card is declined (drawn before the run). */
    private readonly draws: { thinkMs: number; declineFirst: boolean },
  ) {
    this.path = `${apiBase}/${context.dealId}`;
    this.needsProof = context.proofOfWork ?? false;
  }

  async run(arrivalMs: number): Promise<void> {
    let answer = await this.takeTicket(arrivalMs);
    while (answer) {
      const answeredMs = this.context.clock.now();
      const body = answer.body as { status?: string; pollAfterMs?: number };
      const status = body.status ?? '';
      this.observe(status);
      switch (status) {
        case 'ACCESS_GRANTED':
          this.shopper.admittedSeenMs ??= answeredMs;
          return this.checkout(answeredMs);
        case 'ITEM_SOLD_OUT':
          this.shopper.outcome = 'sold_out';
          return;
        case 'PURCHASED':
          this.shopper.outcome = 'purchased';
          return;
        case 'ACCESS_EXPIRED':
          this.shopper.outcome = 'access_expired';
          return;
      }
      // Still in line, or in the pre-queue until the draw places them: poll again when told.
      answer = await this.poll(answeredMs + Math.max(50, body.pollAfterMs ?? 1_000));
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const { shopper } = this;
    const ticket = shopper.ticket ?? shopper.prequeueTicket;
    return { 'x-user-id': shopper.shopperId, ...(ticket ? { authorization: `Bearer ${ticket}` } : {}), ...extra };
  }

  /** Takes what a ticket or poll answer hands over: a pre-queue ticket, or a ticket with a place in line. */
  private adopt(body: { ticket?: string; queueNumber?: number; status?: string }): void {
    const { shopper } = this;
    if (body.status === 'PREQUEUED') {
      shopper.prequeued = true;
      shopper.prequeueTicket = body.ticket ?? shopper.prequeueTicket;
      return;
    }
    if (body.ticket && body.ticket !== shopper.ticket) shopper.distinctTickets++;
    shopper.ticket = body.ticket ?? shopper.ticket;
    shopper.queueNumber = body.queueNumber ?? shopper.queueNumber;
  }

  /** A 429 met: counted per shopper (the pre-queue's promise is that its shoppers meet none). */
  private metBusy(answer: LoadResponse | TransportError): void {
    if (!(answer instanceof TransportError) && answer.status === 429) this.shopper.busyAnswers++;
  }

  /**
   * GET …/challenge and solve it (altcha-lib, as the page's worker does): the X-Proof-Of-Work value,
   * or the failed answer. A challenge is single-use, so every ticket request solves a new one.
   */
  private async proofOfWork(intendedMs: number): Promise<string | LoadResponse | TransportError> {
    const answer = await this.context.traffic.call('challenge', intendedMs, {
      method: 'GET',
      path: `${this.path}/challenge`,
      headers: this.headers(),
      lane: 'tickets',
    });
    if (answer instanceof TransportError || answer.status !== 200) return answer;
    const challenge = answer.body as Challenge;
    const solution = await solveChallenge({ challenge, deriveKey });
    if (!solution) return new TransportError('UNSOLVED', 'the proof-of-work challenge went unsolved');
    this.shopper.proofsSolved++;
    return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
  }

  private observe(status: string): void {
    const { statuses } = this.shopper;
    if (statuses[statuses.length - 1] !== status) statuses.push(status);
  }

  /**
   * POST …/tickets, retried like the waiting-room page does: on 429 for as long as the shopper is
   * asked to come back (honouring Retry-After), on 503 or no answer up to 4 attempts in all.
   * Returns the answer that gave a ticket.
   */
  private async takeTicket(arrivalMs: number): Promise<LoadResponse | undefined> {
    const { clock, traffic } = this.context;
    const { shopper } = this;
    let intendedMs = arrivalMs;
    traffic.ticketsOutstanding++;
    try {
      for (let attempt = 1, failures = 0; ; attempt++) {
        const proof = this.needsProof ? await this.proofOfWork(intendedMs) : undefined;
        const answer =
          proof === undefined || typeof proof === 'string'
            ? await traffic.call('ticket', intendedMs, {
                method: 'POST',
                path: `${this.path}/tickets`,
                headers: this.headers(proof ? { [proofOfWorkHeader]: proof } : {}),
                lane: 'tickets',
              })
            : proof;
        this.metBusy(answer);
        if (!(answer instanceof TransportError)) {
          if (answer.status === 201 || answer.status === 200) {
            if (answer.status === 201) shopper.created++;
            this.adopt(answer.body as { ticket?: string; queueNumber?: number; status?: string });
            traffic.ticketServed();
            return answer;
          }
          const code = errorCodeOf(answer.body);
          if (answer.status === 428 && code === 'PROOF_OF_WORK_REQUIRED' && !this.needsProof) {
            this.needsProof = true; // learnt from the answer: solve one and ask again at once
            continue;
          }
          if (answer.status === 410) {
            traffic.turnedAway();
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
        if (failures >= 4 || clock.stopped) {
          shopper.outcome = clock.stopped ? 'unfinished' : 'failed';
          return undefined;
        }
        intendedMs = clock.now() + retryDelayMs(answer, askedToWait ? attempt : failures);
        if (!(await clock.sleepUntil(intendedMs))) return undefined;
      }
    } finally {
      traffic.ticketsOutstanding--;
    }
  }

  /**
   * GET …/tickets/status (…/prequeue while the shopper holds only a pre-queue ticket) from
   * `intendedMs` on, until a 200 (returned); retried after errors (not after a 429) up to a limit.
   * Undefined, with the shopper's outcome set, when the journey ends here.
   */
  private async poll(intendedMs: number): Promise<LoadResponse | undefined> {
    const { clock, traffic } = this.context;
    for (let errors = 0; ;) {
      if (!(await clock.sleepUntil(intendedMs))) {
        this.shopper.outcome = 'still_polling';
        return undefined;
      }
      const prequeued = this.shopper.ticket === undefined;
      const polled = await traffic.call(prequeued ? 'prequeue' : 'status', intendedMs, {
        method: 'GET',
        path: prequeued ? `${this.path}/prequeue` : `${this.path}/tickets/status`,
        headers: this.headers(),
      });
      this.metBusy(polled);
      if (!(polled instanceof TransportError) && polled.status === 200) {
        if (prequeued) this.adopt(polled.body as { ticket?: string; queueNumber?: number; status?: string });
        return polled;
      }
      if (!(polled instanceof TransportError) && polled.status === 401 && errorCodeOf(polled.body) === 'TICKET_EXPIRED') {
        this.shopper.outcome = 'ticket_expired';
        return undefined;
      }
      if (polled instanceof TransportError || polled.status !== 429) errors++;
      if (errors >= maxConsecutiveErrors) {
        this.shopper.outcome = 'failed';
        return undefined;
      }
      intendedMs = clock.now() + retryDelayMs(polled, errors);
    }
  }

  /** An admitted shopper: looks at the checkout, then pays, cancels, or walks away. */
  private async checkout(admittedMs: number): Promise<void> {
    const { clock, traffic } = this.context;
    const { shopper } = this;
    if (shopper.intent === 'walk') {
      shopper.outcome = 'walked_away';
      return;
    }
    let intendedMs = admittedMs + this.draws.thinkMs / 2;
    if (!(await clock.sleepUntil(intendedMs))) return;
    const page = await traffic.call('checkout', intendedMs, {
      method: 'GET',
      path: `${this.path}/checkout`,
      headers: this.headers(),
      lane: 'checkouts',
    });
    if (!(page instanceof TransportError) && page.status !== 200) {
      shopper.outcome = page.status === 410 ? 'checkout_expired' : 'failed';
      return;
    }
    intendedMs = clock.now() + this.draws.thinkMs / 2;
    if (!(await clock.sleepUntil(intendedMs))) return;
    if (shopper.intent === 'cancel') return this.cancel(intendedMs);
    return this.pay(intendedMs);
  }

  private async cancel(intendedMs: number): Promise<void> {
    const answer = await this.context.traffic.call('cancel', intendedMs, {
      method: 'DELETE',
      path: `${this.path}/checkout`,
      headers: this.headers(),
      lane: 'checkouts',
    });
    if (answer instanceof TransportError) this.shopper.outcome = answer.code === 'STOPPED' ? 'unfinished' : 'failed';
    else if (answer.status === 204) this.shopper.outcome = 'cancelled';
    else this.shopper.outcome = answer.status === 410 ? 'checkout_expired' : 'failed';
  }

  /** POST …/orders, with another card after a decline (a new payment), retried on 409/429/503 or no answer, six attempts in all. */
  private async pay(intendedMs: number): Promise<void> {
    const { clock, traffic } = this.context;
    const { shopper } = this;
    let card = this.draws.declineFirst ? 'tok_decline' : 'tok_approve';
    let payment = 1;
    for (let attempt = 1; attempt <= 6; attempt++) {
      const answer = await traffic.call('pay', intendedMs, {
        method: 'POST',
        path: `${this.path}/orders`,
        lane: 'checkouts',
        headers: this.headers({ 'content-type': 'application/json', 'idempotency-key': `${shopper.shopperId}-pay-${payment}` }),
        body: JSON.stringify({ paymentMethod: { token: card } }),
      });
      if (!(answer instanceof TransportError)) {
        const code = errorCodeOf(answer.body);
        if (answer.status === 201) {
          shopper.outcome = 'purchased';
          this.observe('PURCHASED');
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
      intendedMs =
        clock.now() + (answer instanceof TransportError || answer.status !== 402 ? retryDelayMs(answer, attempt) : this.draws.thinkMs);
      if (!(await clock.sleepUntil(intendedMs))) return;
    }
    shopper.outcome = 'failed';
  }
}
