import { describe, expect, it } from 'vitest';
import { TestPaymentProvider } from '../src/payment-provider.js';

const request = (paymentToken?: string) => ({ orderId: 'o1', shopperId: 's', amount: 100, currency: 'KRW', paymentToken });

describe('the test payment provider', () => {
  it('picks the outcome from the test token, or the configured default', async () => {
    const provider = new TestPaymentProvider('approve');
    const signal = new AbortController().signal;
    expect(await provider.charge(request('tok_approve'), signal)).toEqual({ outcome: 'approved', reference: 'test_o1' });
    expect((await provider.charge(request('tok_decline'), signal)).outcome).toBe('declined');
    expect((await provider.charge(request(), signal)).outcome).toBe('approved');
    expect((await new TestPaymentProvider('decline').charge(request('card-123'), signal)).outcome).toBe('declined');
  });

  it('hangs on tok_timeout until the caller gives up', async () => {
    const provider = new TestPaymentProvider();
    await expect(provider.charge(request('tok_timeout'), AbortSignal.timeout(30))).rejects.toThrow(/timed out/);
  });
});
