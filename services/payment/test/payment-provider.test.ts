import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PaymentLedger, TestPaymentProvider } from '../src/payment-provider.js';

const request = (idempotencyKey: string, paymentToken?: string) => ({
  idempotencyKey,
  shopperId: 's',
  amount: 100,
  currency: 'KRW',
  paymentToken,
});
const signal = () => new AbortController().signal;

describe('the test payment provider', () => {
  it('picks the outcome from the test token, or the configured default', async () => {
    const provider = new TestPaymentProvider('approve');
    expect(await provider.charge(request('k1', 'tok_approve'), signal())).toEqual({
      outcome: 'approved',
      reference: expect.stringMatching(/^test_/),
    });
    expect((await provider.charge(request('k2', 'tok_decline'), signal())).outcome).toBe('declined');
    expect((await provider.charge(request('k3'), signal())).outcome).toBe('approved');
    expect((await new TestPaymentProvider('decline').charge(request('k4', 'card-123'), signal())).outcome).toBe('declined');
    expect(provider.ledger.charges().map((c) => c.key)).toEqual(['k1', 'k3']);
  });

  it('charges once per idempotency key, answering a repeat with the first charge', async () => {
    const provider = new TestPaymentProvider();
    const first = await provider.charge(request('same'), signal());
    const second = await provider.charge(request('same'), signal());
    expect(second).toEqual(first);
    expect(provider.ledger.charges()).toHaveLength(1);
  });

  it('hangs on tok_timeout until the caller gives up, having charged nothing', async () => {
    const provider = new TestPaymentProvider();
    await expect(provider.charge(request('t', 'tok_timeout'), AbortSignal.timeout(30))).rejects.toThrow(/timed out/);
    expect(provider.ledger.charges()).toHaveLength(0);
    expect(await provider.voidCharge('t')).toEqual({ outcome: 'not_charged' });
  });

  it('can time out after charging; a void then refunds the charge, once', async () => {
    const provider = new TestPaymentProvider();
    await expect(provider.charge(request('late', 'tok_timeout_after_charge'), AbortSignal.timeout(30))).rejects.toThrow(/timed out/);
    const [charge] = provider.ledger.charges();
    expect(charge).toMatchObject({ key: 'late', amount: 100 });
    expect(await provider.voidCharge('late')).toEqual({ outcome: 'refunded', reference: charge!.reference });
    await provider.refund(charge!.reference);
    expect(await provider.voidCharge('late')).toEqual({ outcome: 'refunded', reference: charge!.reference });
    expect(provider.refunds).toEqual([charge!.reference]);
  });

  it('refuses a charge that arrives after its key was voided', async () => {
    const provider = new TestPaymentProvider();
    await provider.voidCharge('raced');
    expect((await provider.charge(request('raced'), signal())).outcome).toBe('declined');
    expect(provider.ledger.charges()).toHaveLength(0);
  });

  it('keeps its ledger in a file shared by every provider that names it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.jsonl');
    const one = new TestPaymentProvider('approve', new PaymentLedger(file));
    const other = new TestPaymentProvider('approve', new PaymentLedger(file));
    await one.charge(request('shared', 'tok_timeout_after_charge'), AbortSignal.timeout(10)).catch(() => undefined);
    expect(await other.voidCharge('shared')).toMatchObject({ outcome: 'refunded' });
    expect(new PaymentLedger(file).refunded()).toHaveLength(1);
  });
});
