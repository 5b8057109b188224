import type { DealStore } from '@quickdeal/core';

/** A small deal, open now, written straight into Redis (no operator, no topic): for tests of the store itself. */
export async function applyOpenDeal(store: DealStore, dealId: string): Promise<void> {
  await store.applyDeal(
    {
      id: dealId,
      stock: 5,
      cap: 2,
      windowMs: 60_000,
      opensAt: Date.now() - 1_000,
      closesAt: null,
      paused: false,
      ticketTtlMs: 3_600_000,
      price: 1_000,
      currency: 'KRW',
      productName: `Test phone ${dealId}`,
      queueMode: 'Always',
      maxAdmissionsPerMinute: null,
      prequeueMs: 0,
      proofOfWork: null,
    },
    0,
  );
}

/** Reserves and records a ticket as ticketing does after Kafka's acknowledgement (queue number 1, a placeholder token); true once recorded. */
export async function recordTicket(store: DealStore, dealId: string, shopperId: string): Promise<boolean> {
  const jti = `jti-${shopperId}`;
  const reservation = await store.reserveTicket(dealId, shopperId, jti);
  if (reservation.outcome !== 'reserved') throw new Error(`${shopperId} could not reserve a ticket: ${reservation.outcome}`);
  return store.finalizeTicket(dealId, shopperId, { jti, queueNumber: 1, token: 'placeholder', expiresAtMs: Date.now() + 60_000 }, 120_000);
}
