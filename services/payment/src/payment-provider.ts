import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export interface ChargeRequest {
  /** The shop's Idempotency-Key, passed on: the provider charges at most once per key and answers a repeat with the first outcome. */
  idempotencyKey: string;
  shopperId: string;
  amount: number;
  currency: string;
  /** What the shop's payment form produced (a card token); the provider decides what it means. */
  paymentToken: string | undefined;
}

export type ChargeResult = { outcome: 'approved'; reference: string } | { outcome: 'declined'; reason: string };

/** What voiding a key found: nothing charged (and now nothing will be), or a charge, now refunded. */
export type VoidResult = { outcome: 'not_charged' } | { outcome: 'refunded'; reference: string };

/**
 * Whatever takes the money. QuickDeal ships only a test provider; no real payment network is
 * reached. An adapter for a real provider must keep the three promises below (Adyen's "technical
 * cancel" by merchant reference and Stripe's idempotency keys are such promises).
 */
export interface PaymentProvider {
  /** Charges at most once per idempotency key; a repeat answers the first outcome without charging again. */
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  /** Gives a known charge back; refunding one twice refunds it once. */
  refund(reference: string, signal: AbortSignal): Promise<void>;
  /**
   * Settles a charge whose answer never came (a timeout, a process that died): refunds whatever was
   * charged under the key, and makes the key refuse any charge still on its way.
   */
  voidCharge(idempotencyKey: string, signal: AbortSignal): Promise<VoidResult>;
}

export type TestOutcome = 'approve' | 'decline' | 'timeout' | 'timeout_after_charge';

export type LedgerEntry =
  | { kind: 'charge'; key: string; reference: string; shopperId: string; amount: number; currency: string }
  | { kind: 'refund'; key: string; reference: string }
  | { kind: 'void'; key: string };

/**
 * The test provider's book of what it did, so tests can check that every charge ended as an order
 * or a refund. In memory, or in a file of JSON lines (appended synchronously, so it survives a
 * kill -9 and is shared by every payment process a test starts).
 */
export class PaymentLedger {
  private readonly memory: LedgerEntry[] = [];

  constructor(private readonly file?: string) {}

  append(entry: LedgerEntry): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    else this.memory.push(entry);
  }

  entries(): LedgerEntry[] {
    if (!this.file) return [...this.memory];
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as LedgerEntry);
  }

  charges(): Extract<LedgerEntry, { kind: 'charge' }>[] {
    return this.entries().filter((e) => e.kind === 'charge');
  }

  /** References of refunded charges, each once. */
  refunded(): string[] {
    return [...new Set(this.entries().flatMap((e) => (e.kind === 'refund' ? [e.reference] : [])))];
  }
}

const sleepUntilAborted = (signal: AbortSignal) =>
  new Promise<never>((_resolve, reject) => {
    const fail = () => reject(new Error('payment provider timed out'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });

/**
 * A provider for development and tests, in the manner of real providers' test cards: the payment
 * token `tok_approve`, `tok_decline`, `tok_timeout` (no answer, nothing charged) or
 * `tok_timeout_after_charge` (charges, then never answers) picks the outcome; any other token (or
 * none) gets the configured default. It keeps a ledger of charges, refunds and voids.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly ledger: PaymentLedger;

  constructor(
    private readonly defaultOutcome: TestOutcome = 'approve',
    ledger?: PaymentLedger,
  ) {
    this.ledger = ledger ?? new PaymentLedger();
  }

  /** References of the refunded charges. */
  get refunds(): string[] {
    return this.ledger.refunded();
  }

  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
    const entries = this.ledger.entries();
    if (entries.some((e) => e.kind === 'void' && e.key === request.idempotencyKey)) {
      return { outcome: 'declined', reason: 'This payment was cancelled (test provider)' };
    }
    const earlier = entries.find((e) => e.kind === 'charge' && e.key === request.idempotencyKey);
    if (earlier?.kind === 'charge') return { outcome: 'approved', reference: earlier.reference };

    const token = /^tok_(approve|decline|timeout|timeout_after_charge)$/.exec(request.paymentToken ?? '')?.[1] as TestOutcome | undefined;
    const outcome = token ?? this.defaultOutcome;
    if (outcome === 'decline') return { outcome: 'declined', reason: 'The card was declined (test provider)' };
    if (outcome === 'timeout') return sleepUntilAborted(signal);
    const reference = `test_${randomUUID()}`;
    this.ledger.append({
      kind: 'charge',
      key: request.idempotencyKey,
      reference,
      shopperId: request.shopperId,
      amount: request.amount,
      currency: request.currency,
    });
    if (outcome === 'timeout_after_charge') return sleepUntilAborted(signal);
    return { outcome: 'approved', reference };
  }

  async refund(reference: string): Promise<void> {
    const charge = this.ledger.charges().find((e) => e.reference === reference);
    if (!charge) throw new Error(`no charge ${reference} to refund`);
    if (!this.ledger.refunded().includes(reference)) this.ledger.append({ kind: 'refund', key: charge.key, reference });
  }

  async voidCharge(idempotencyKey: string): Promise<VoidResult> {
    this.ledger.append({ kind: 'void', key: idempotencyKey });
    const charge = this.ledger.charges().find((e) => e.key === idempotencyKey);
    if (!charge) return { outcome: 'not_charged' };
    await this.refund(charge.reference);
    return { outcome: 'refunded', reference: charge.reference };
  }
}
