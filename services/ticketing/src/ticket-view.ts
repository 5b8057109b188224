import { ticketStanding, type DealSnapshot, type ShopperTicket } from '@quickdeal/core';
import { queuePosition } from './queue-position.js';

export type TicketStatus = 'ITEM_SOLD_OUT' | 'ACCESS_DENIED' | 'ACCESS_GRANTED' | 'PURCHASED' | 'ACCESS_EXPIRED';

/** What a shopper is told about their ticket: the body of a status answer, and of a ticket answer beside the ticket. */
export interface TicketView {
  status: TicketStatus;
  queueNumber: number;
  position: number;
  unitsLeft: number;
  etaSeconds: number;
  pollAfterMs: number;
  paused?: boolean;
  checkoutExpiresAt?: string;
  orderId?: string | undefined;
}

/** A ticket still in line, answered from memory: where it stands and when to ask again. */
export function waitingView(deal: DealSnapshot, queueNumber: number, admissionsPerSecond: number): TicketView {
  return { status: 'ACCESS_DENIED', queueNumber, paused: deal.paused, ...queuePosition(queueNumber, deal, admissionsPerSecond) };
}

/** A ticket's status once admission has dealt with it, from the shopper's record in Redis. */
export function processedView(
  deal: DealSnapshot,
  queueNumber: number,
  jti: string,
  record: ShopperTicket | undefined,
  now: number,
  admissionsPerSecond: number,
): TicketView {
  const base = { queueNumber, position: 0, unitsLeft: Math.max(0, deal.stock - deal.sold), etaSeconds: 0, pollAfterMs: 5_000 };
  if (!record || record.jti !== jti) return { ...base, status: 'ACCESS_EXPIRED' };
  switch (ticketStanding(record, now)) {
    case 'checkout_open':
      return { ...base, status: 'ACCESS_GRANTED', pollAfterMs: 2_000, checkoutExpiresAt: new Date(record.deadline ?? 0).toISOString() };
    case 'purchased':
      return { ...base, status: 'PURCHASED', orderId: record.orderId };
    case 'sold_out':
      return { ...base, status: 'ITEM_SOLD_OUT' };
    case 'waiting':
      return waitingView(deal, queueNumber, admissionsPerSecond);
    case 'checkout_expired':
    case 'skipped':
      return { ...base, status: 'ACCESS_EXPIRED' };
  }
}

/** Every unit is sold: final for every ticket not yet admitted. */
export const soldOut = (deal: DealSnapshot) => deal.sold >= deal.stock;
