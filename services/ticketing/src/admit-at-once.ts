import type { DealSnapshot, DealStore } from '@quickdeal/core';
import { processedView, type TicketView } from './ticket-view.js';

/**
 * Queue only when busy: in a WhenBusy deal, a ticket just put in line is admitted in the same
 * request when it heads the line (everyone before it processed) and a unit and a slot are free.
 * The admission script decides that atomically, with the consumer's own rules (cap, stock, rate,
 * pause), so nobody already waiting can be overtaken. The consumer may have admitted it a moment
 * earlier: that is answered the same. Undefined: the ticket waits in line.
 */
export async function admitAtOnce(
  store: DealStore,
  deal: DealSnapshot,
  ticket: { shopperId: string; jti: string; queueNumber: number; expiresAtMs: number },
  now: number,
): Promise<{ view: TicketView; admittedHere: boolean } | undefined> {
  if (deal.queueMode !== 'WhenBusy') return undefined;
  const result = await store.admitAtOnce(deal.dealId, { ...ticket, valid: true });
  if (result === 'queued' || (result !== 'processed' && result.admitted === 0)) return undefined;
  const record = await store.shopperTicket(deal.dealId, ticket.shopperId);
  const view = processedView(deal, ticket.queueNumber, ticket.jti, record, now, 0);
  return view.status === 'ACCESS_GRANTED' ? { view, admittedHere: result !== 'processed' } : undefined;
}
