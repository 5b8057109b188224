import type { Context } from 'hono';
import { errors } from '../errors.js';
import type { TicketClaims, TicketVerifier, VerifiedTicket } from '../tickets.js';
import { bearerTicket, headerOf, shopperIdOf } from './app-kit.js';

/** A ticket counts only for the deal it was issued for and the shopper it was issued to. */
export function assertTicketBelongs(claims: TicketClaims, dealId: string, shopperId: string): void {
  if (claims.deal !== dealId) throw errors.forbidden('TICKET_FOREIGN', 'This ticket is for another deal');
  if (claims.sub !== shopperId) throw errors.forbidden('TICKET_NOT_YOURS', 'This ticket belongs to another shopper');
}

/** The ticket in an Authorization header, verified and shown to be this shopper's ticket for this deal. */
export async function ownTicket(
  verifier: TicketVerifier,
  ask: { authorization: string | undefined; dealId: string; shopperId: string },
): Promise<VerifiedTicket> {
  const ticket = await verifier.verify(bearerTicket(ask.authorization));
  assertTicketBelongs(ticket.claims, ask.dealId, ask.shopperId);
  return ticket;
}

/**
 * ownTicket with no promise, when this very token was verified before (the poll's path: a shopper
 * polls with the same ticket every few seconds); undefined when it was not: ask ownTicket.
 */
export function rememberedOwnTicket(
  verifier: TicketVerifier,
  ask: { authorization: string | undefined; dealId: string; shopperId: string },
): VerifiedTicket | undefined {
  const ticket = verifier.remembered(bearerTicket(ask.authorization));
  if (ticket) assertTicketBelongs(ticket.claims, ask.dealId, ask.shopperId);
  return ticket;
}

/** The request's ticket (`Authorization: Bearer`), verified and shown to be this shopper's ticket for the deal in the path. */
export async function ownTicketOf(c: Context, verifier: TicketVerifier): Promise<VerifiedTicket> {
  const shopperId = shopperIdOf(c);
  return ownTicket(verifier, { authorization: headerOf(c, 'Authorization'), dealId: c.req.param('dealId') ?? '', shopperId });
}
