import { describe, expect, it } from 'vitest';
import { parseConfig } from '@quickdeal/core';
import { paymentConfigSchema } from '../src/config.js';

const env = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://q:q@127.0.0.1/q' };

describe('the payment configuration', () => {
  it('refuses a provider timeout that is not shorter than the payment lease, naming both', () => {
    expect(() => parseConfig(paymentConfigSchema, { ...env, PAYMENT_TIMEOUT_MS: '60000', PAYMENT_LEASE_MS: '60000' })).toThrow(
      /PAYMENT_TIMEOUT_MS: must be less than PAYMENT_LEASE_MS/,
    );
    expect(() => parseConfig(paymentConfigSchema, { ...env, PAYMENT_TIMEOUT_MS: '90000', PAYMENT_LEASE_MS: '30000' })).toThrow(
      /PAYMENT_LEASE_MS/,
    );
  });

  it('takes a timeout inside the lease, and the defaults', () => {
    expect(parseConfig(paymentConfigSchema, { ...env, PAYMENT_TIMEOUT_MS: '5000', PAYMENT_LEASE_MS: '30000' })).toMatchObject({
      PAYMENT_TIMEOUT_MS: 5_000,
      PAYMENT_LEASE_MS: 30_000,
    });
    expect(parseConfig(paymentConfigSchema, env)).toMatchObject({ PAYMENT_TIMEOUT_MS: 10_000, PAYMENT_LEASE_MS: 60_000 });
  });
});
