import { describe, expect, it } from 'vitest';
import { assertTicketBelongs } from '../src/http/own-ticket.js';
import { ticketStanding, type TicketState } from '../src/ticket-state.js';
import type { TicketClaims } from '../src/tickets.js';

describe('a ticket record’s state', () => {
  const now = 1_000_000;
  const standing = (state: TicketState, deadline?: number) => ticketStanding({ state, deadline }, now);

  it('reads an admitted or paying ticket as an open checkout only before its deadline', () => {
    expect(standing('admitted', now + 1)).toBe('checkout_open');
    expect(standing('paying', now + 1)).toBe('checkout_open');
    expect(standing('admitted', now)).toBe('checkout_expired');
    expect(standing('paying', undefined)).toBe('checkout_expired');
  });

  it('names every other state’s standing', () => {
    expect(standing('pending')).toBe('waiting');
    expect(standing('waiting')).toBe('waiting');
    expect(standing('expired', now + 60_000)).toBe('checkout_expired');
    expect(standing('purchased')).toBe('purchased');
    expect(standing('soldout')).toBe('sold_out');
    expect(standing('skipped')).toBe('skipped');
  });
});

describe('the ownership check', () => {
  const claims: TicketClaims = { iss: 'quickdeal', sub: 'alice', deal: 'phone', qn: 1, jti: 'j', iat: 1, exp: 2 };

  it('passes the shopper’s own ticket for this deal', () => {
    expect(() => assertTicketBelongs(claims, 'phone', 'alice')).not.toThrow();
  });

  it('refuses a ticket of another deal, then one of another shopper, with 403', () => {
    expect(() => assertTicketBelongs(claims, 'tablet', 'bob')).toThrow(expect.objectContaining({ status: 403, code: 'TICKET_FOREIGN' }));
    expect(() => assertTicketBelongs(claims, 'phone', 'bob')).toThrow(expect.objectContaining({ status: 403, code: 'TICKET_NOT_YOURS' }));
  });
});
