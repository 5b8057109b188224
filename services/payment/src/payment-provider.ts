export interface ChargeRequest {
  orderId: string;
  shopperId: string;
  amount: number;
  currency: string;
  /** What the shop's payment form produced (a card token); the provider decides what it means. */
  paymentToken: string | undefined;
}

export type ChargeResult = { outcome: 'approved'; reference: string } | { outcome: 'declined'; reason: string };

/** Whatever takes the money. QuickDeal ships only a test provider; no real payment network is reached. */
export interface PaymentProvider {
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  refund(reference: string): Promise<void>;
}

export type TestOutcome = 'approve' | 'decline' | 'timeout';

/**
 * A provider for development and tests, in the manner of real providers' test cards: the
 * payment token `tok_approve`, `tok_decline` or `tok_timeout` picks the outcome; any other
 * token (or none) gets the configured default.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly refunds: string[] = [];

  constructor(private readonly defaultOutcome: TestOutcome = 'approve') {}

  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
    const outcome = (/^tok_(approve|decline|timeout)$/.exec(request.paymentToken ?? '')?.[1] as TestOutcome | undefined) ?? this.defaultOutcome;
    if (outcome === 'decline') return { outcome: 'declined', reason: 'The card was declined (test provider)' };
    if (outcome === 'timeout') {
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('payment provider timed out')), { once: true }));
    }
    return { outcome: 'approved', reference: `test_${request.orderId}` };
  }

  async refund(reference: string): Promise<void> {
    this.refunds.push(reference);
  }
}
