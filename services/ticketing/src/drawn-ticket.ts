import type { DealSnapshot, DealStore, TicketSigner } from '@quickdeal/core';

/**
 * A drawn ticket's lifetime: issued at the open, valid for the deal's ticket TTL. The same for
 * every process, so a ticket signed twice (Ed25519 signs deterministically) is the same token.
 */
export function drawnTicketTimes(deal: Pick<DealSnapshot, 'opensAt' | 'ticketTtlMs'>): { iat: number; exp: number } {
  const iat = Math.floor(deal.opensAt / 1000);
  return { iat, exp: iat + Math.ceil(deal.ticketTtlMs / 1000) };
}

/**
 * The ticket of a shopper the draw placed. The draw writes 100,000 places in seconds by signing
 * nothing; each ticket is signed when its shopper first asks, and kept in their record.
 */
export async function drawnTicket(
  deps: { store: DealStore; signer: TicketSigner },
  deal: DealSnapshot,
  shopper: { shopperId: string; jti: string; queueNumber: number },
): Promise<string> {
  const token = deps.signer.sign({
    sub: shopper.shopperId,
    deal: deal.dealId,
    qn: shopper.queueNumber,
    jti: shopper.jti,
    ...drawnTicketTimes(deal),
  });
  return (await deps.store.storeDrawnToken(deal.dealId, shopper.shopperId, shopper.queueNumber, token)) || token;
}
