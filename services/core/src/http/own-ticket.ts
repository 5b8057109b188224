import type { Context } from 'hono';
import { errors } from '../errors.js';
import type { TicketClaims, TicketVerifier, VerifiedTicket } from '../tickets.js';
import { bearerTicketOf, shopperIdOf } from './app-kit.js';

/** A ticket counts only for the deal it was issued for and the shopper it was issued to. */
export function assertTicketBelongs(claims: TicketClaims, dealId: string, shopperId: string): void {
  if (claims.deal !== dealId) throw errors.forbidden('TICKET_FOREIGN', 'This ticket is for another deal');
  if (claims.sub !== shopperId) throw errors.forbidden('TICKET_NOT_YOURS', 'This ticket belongs to another shopper');
}

/** The request's ticket (`Authorization: Bearer`), verified and shown to be this shopper's ticket for the deal in the path. */
export async function ownTicketOf(c: Context, verifier: TicketVerifier): Promise<VerifiedTicket> {
  const shopperId = shopperIdOf(c);
  const dealId = c.req.param('dealId') ?? '';
  const ticket = await verifier.verify(bearerTicketOf(c));
  assertTicketBelongs(ticket.claims, dealId, shopperId);
  return ticket;
}
