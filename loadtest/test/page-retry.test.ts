import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../src/flash-sale/page-retry.js';
import { TransportError } from '../src/transport.js';

const lowest = () => 0;
const highest = () => 0.999;

describe('a simulated shopper’s retries, by the waiting-room page’s rule', () => {
  it('waits at least Retry-After after a 429, and longer once the back-off for the BUSY answers in a row is longer', () => {
    expect(retryDelayMs({ status: 429, retryAfterS: 2, body: {} }, 1, lowest)).toBe(2_000);
    expect(retryDelayMs({ status: 429, retryAfterS: 2, body: {} }, 1, highest)).toBe(2_500); // + up to 0.5 s of jitter
    expect(retryDelayMs({ status: 429, retryAfterS: 1, body: {} }, 5, lowest)).toBe(8_000); // the fifth in a row: 8–16 s
    expect(retryDelayMs({ status: 429, retryAfterS: 1, body: {} }, 9, highest)).toBeLessThanOrEqual(30_000);
  });

  it('treats a 503 with Retry-After like a 429, and backs off alone after an error without one or no answer', () => {
    expect(retryDelayMs({ status: 503, retryAfterS: 3, body: {} }, 1, lowest)).toBe(3_000);
    expect(retryDelayMs({ status: 503, retryAfterS: undefined, body: {} }, 3, lowest)).toBe(2_000);
    expect(retryDelayMs(new TransportError('TIMEOUT', 'no answer in time'), 1, lowest)).toBe(500);
    expect(retryDelayMs(new TransportError('TIMEOUT', 'no answer in time'), 2, highest)).toBeGreaterThan(1_990);
  });
});
