import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200, sweepIntervalMs: 100 });
});
afterAll(async () => {
  await room?.close();
});

/** A deal and shoppers already admitted into checkout. */
async function admitted(count: number, spec: { stock?: number; window?: string; cap?: number } = {}) {
  const { dealId } = await room.createDeal({
    stock: spec.stock ?? 10,
    admission: { maxActiveShoppers: spec.cap ?? 10, checkoutWindow: spec.window ?? '1m' },
  });
  const tickets: string[] = [];
  for (let i = 0; i < count; i++) tickets.push((await room.takeTicket(dealId, `buyer${i}`)).body.ticket);
  const admittedCount = Math.min(count, spec.cap ?? 10, spec.stock ?? 10);
  await room.waitFor(
    () => room.store.snapshot(dealId),
    (d) => d.active === admittedCount,
  );
  // polls are answered from memory, which follows Redis within a refresh
  await room.waitFor(
    () => room.status(dealId, 'buyer0', tickets[0]!),
    (s) => s.body.status === 'ACCESS_GRANTED',
    5_000,
  );
  return { dealId, tickets };
}

const soldInPostgres = async (dealId: string) =>
  (await room.db.selectFrom('deals').select('sold').where('id', '=', dealId).executeTakeFirstOrThrow()).sold;
/** quickdeal_checkouts_expired_total of a deal, summed over the services that count it. */
async function expiredCheckoutsCounted(dealId: string): Promise<number> {
  let total = 0;
  for (const metrics of [room.metrics.payment, room.metrics.admission]) {
    for (const sample of (await metrics.checkoutsExpired.get()).values) if (sample.labels.deal === dealId) total += sample.value;
  }
  return total;
}
const ordersInPostgres = async (dealId: string) => room.db.selectFrom('orders').selectAll().where('deal_id', '=', dealId).execute();

describe('checkout and payment', () => {
  it('shows the checkout, takes the payment once per Idempotency-Key, and frees the slot', async () => {
    const { dealId, tickets } = await admitted(1);
    const view = await room.checkout(dealId, 'buyer0', tickets[0]!);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ deal: { id: dealId, productName: 'Test Phone 256GB' }, price: 1_550_000, currency: 'KRW' });
    expect(Date.parse(view.body.expiresAt)).toBeGreaterThan(Date.now());

    const paid = await room.pay(dealId, 'buyer0', tickets[0]!, `${dealId}-1`);
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ orderId: expect.any(String), status: 'PAID' });
    const replay = await room.pay(dealId, 'buyer0', tickets[0]!, `${dealId}-1`);
    expect(replay.status).toBe(201);
    expect(replay.body.orderId).toBe(paid.body.orderId);
    const twice = await room.pay(dealId, 'buyer0', tickets[0]!, `${dealId}-2`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('ALREADY_PURCHASED');

    expect(await soldInPostgres(dealId)).toBe(1);
    expect(await ordersInPostgres(dealId)).toHaveLength(1);
    const deal = await room.store.snapshot(dealId);
    expect(deal).toMatchObject({ sold: 1, active: 0, available: 9 });
    expect((await room.status(dealId, 'buyer0', tickets[0]!)).body.status).toBe('PURCHASED');
    const again = await room.takeTicket(dealId, 'buyer0');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_PURCHASED');
  });

  it('refuses a shopper who was not admitted, and bad payment requests, changing nothing', async () => {
    const { dealId, tickets } = await admitted(2, { cap: 1 });
    const waiting = await room.pay(dealId, 'buyer1', tickets[1]!);
    expect(waiting.status).toBe(403);
    expect(waiting.body.error.code).toBe('NOT_ADMITTED');
    expect((await room.checkout(dealId, 'buyer1', tickets[1]!)).status).toBe(403);
    const noKey = await room.payment.request(`/api/v1/deals/${dealId}/orders`, {
      method: 'POST',
      headers: { 'X-User-Id': 'buyer0', Authorization: `Bearer ${tickets[0]}` },
    });
    expect(noKey.status).toBe(400);
    expect((await noKey.json()).error.code).toBe('IDEMPOTENCY_KEY_MISSING');
    const badBody = await room.payment.request(`/api/v1/deals/${dealId}/orders`, {
      method: 'POST',
      headers: { 'X-User-Id': 'buyer0', Authorization: `Bearer ${tickets[0]}`, 'Idempotency-Key': 'k' },
      body: '{"paymentMethod": ',
    });
    expect(badBody.status).toBe(400);
    expect((await badBody.json()).error.code).toBe('BODY_INVALID');
    const stolen = await room.pay(dealId, 'mallory', tickets[0]!);
    expect(stolen.status).toBe(403);
    expect(await soldInPostgres(dealId)).toBe(0);
    expect((await room.store.shopperTicket(dealId, 'buyer0'))?.state).toBe('admitted');
  });

  it('explains a declined payment with 402 and keeps the unit held until the deadline', async () => {
    const { dealId, tickets } = await admitted(1);
    const declined = await room.pay(dealId, 'buyer0', tickets[0]!, `${dealId}-d1`, 'tok_decline');
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ code: 'PAYMENT_DECLINED', checkoutExpiresAt: expect.any(String) });
    expect((await room.store.shopperTicket(dealId, 'buyer0'))?.state).toBe('admitted');
    expect((await room.store.snapshot(dealId)).active).toBe(1);
    const paid = await room.pay(dealId, 'buyer0', tickets[0]!, `${dealId}-d2`, 'tok_approve');
    expect(paid.status).toBe(201);
  });

  it('gives the unit back at once on cancel, and refuses a second cancel', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 1, cap: 5 });
    expect((await room.store.snapshot(dealId)).active).toBe(1);
    // buyer1 waits while buyer0 holds the only unit (after the cancel, admission may let buyer1 in at once)
    const waiting = await room.cancel(dealId, 'buyer1', tickets[1]!);
    expect(waiting.status).toBe(403);
    expect(waiting.body.error.code).toBe('NOT_ADMITTED');
    expect((await room.cancel(dealId, 'buyer0', tickets[0]!)).status).toBe(204);
    const second = await room.cancel(dealId, 'buyer0', tickets[0]!);
    expect(second.status).toBe(410);
    expect(second.body.error.code).toBe('CHECKOUT_EXPIRED');
    expect((await room.store.snapshot(dealId)).cancelled).toBe(1);
    expect((await room.status(dealId, 'buyer0', tickets[0]!)).body.status).toBe('ACCESS_EXPIRED');
    await room.waitFor(
      () => room.status(dealId, 'buyer1', tickets[1]!),
      (s) => s.body.status === 'ACCESS_GRANTED',
    );
    expect((await room.pay(dealId, 'buyer0', tickets[0]!)).status).toBe(410);
    // the spent ticket's shopper may queue again, at the back
    const requeued = await room.takeTicket(dealId, 'buyer0');
    expect(requeued.status).toBe(201);
    expect(requeued.body.queueNumber).toBe(3);
  });

  it('expires an unpaid checkout at its deadline, returns the unit, and refuses payment after it', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 1, window: '1s' });
    const granted = await room.status(dealId, 'buyer0', tickets[0]!);
    expect(granted.body.status).toBe('ACCESS_GRANTED');
    const deadline = Date.parse(granted.body.checkoutExpiresAt);
    await room.waitFor(
      () => room.status(dealId, 'buyer1', tickets[1]!),
      (s) => s.body.status === 'ACCESS_GRANTED',
      5_000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    const late = await room.pay(dealId, 'buyer0', tickets[0]!);
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe('CHECKOUT_EXPIRED');
    expect((await room.checkout(dealId, 'buyer0', tickets[0]!)).status).toBe(410);
    const cancelled = await room.cancel(dealId, 'buyer0', tickets[0]!);
    expect(cancelled.status).toBe(410);
    expect(cancelled.body.error.code).toBe('CHECKOUT_EXPIRED');
    expect((await room.status(dealId, 'buyer0', tickets[0]!)).body.status).toBe('ACCESS_EXPIRED');
    expect(await soldInPostgres(dealId)).toBe(0);
    // whichever ended it (the sweeper, the admission script or the late payment), it is counted once
    expect(await expiredCheckoutsCounted(dealId)).toBe(1);
  });

  it('never lets a payment and the sweeper both have the unit', async () => {
    for (let round = 0; round < 5; round++) {
      const { dealId, tickets } = await admitted(2, { stock: 1, window: '1s' });
      const deadline = Date.parse((await room.status(dealId, 'buyer0', tickets[0]!)).body.checkoutExpiresAt);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now() - 5 + round * 3)));
      const paid = await room.pay(dealId, 'buyer0', tickets[0]!);
      expect([201, 410]).toContain(paid.status);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const deal = await room.store.snapshot(dealId);
      const second = (await room.store.shopperTicket(dealId, 'buyer1'))?.state;
      if (paid.status === 201) {
        expect(await soldInPostgres(dealId)).toBe(1);
        expect(second).toBe('soldout');
      } else {
        expect(await soldInPostgres(dealId)).toBe(0);
        expect(second).toBe('admitted');
      }
      expect(deal.sold + deal.active).toBeLessThanOrEqual(1);
    }
  });

  it('lets Postgres refuse an oversell even when Redis is wrong', async () => {
    const { dealId, tickets } = await admitted(2, { stock: 2 });
    // someone sold the last units behind Redis's back
    await room.db.updateTable('deals').set({ sold: 2 }).where('id', '=', dealId).execute();
    const paid = await room.pay(dealId, 'buyer0', tickets[0]!);
    expect(paid.status).toBe(410);
    expect(paid.body.error.code).toBe('ITEM_SOLD_OUT');
    expect(await soldInPostgres(dealId)).toBe(2);
    expect(await ordersInPostgres(dealId)).toHaveLength(0);
    expect(room.provider.refunds).toHaveLength(1);
    await expect(sql`update deals set sold = stock + 1 where id = ${dealId}`.execute(room.db)).rejects.toThrow(/deals_no_oversell/);
  });

  it('gives a claim re-sent by the Redis client back to the request that made it, and to no other', async () => {
    const { dealId } = await admitted(1);
    const held = await room.store.shopperTicket(dealId, 'buyer0');
    // ioredis re-sends a command whose reply a dropped connection lost; Redis may have run it already.
    const first = await room.store.claimForPayment(dealId, 'buyer0', held!.queueNumber, 30_000, 'request-1');
    const resent = await room.store.claimForPayment(dealId, 'buyer0', held!.queueNumber, 30_000, 'request-1');
    const other = await room.store.claimForPayment(dealId, 'buyer0', held!.queueNumber, 30_000, 'request-2');
    expect(first.outcome).toBe('claimed');
    expect(resent).toEqual(first);
    expect(other.outcome).toBe('in_progress');
  });

  it('settles a checkout whose payment process died, from Postgres', async () => {
    const { dealId, tickets } = await admitted(1, { window: '1s' });
    // a payment that claimed the checkout and then vanished: its lease lapses at once, no order
    const held = await room.store.shopperTicket(dealId, 'buyer0');
    const claim = await room.store.claimForPayment(dealId, 'buyer0', held!.queueNumber, 1);
    expect(claim.outcome).toBe('claimed');
    await room.waitFor(
      () => room.store.shopperTicket(dealId, 'buyer0'),
      (t) => t?.state === 'expired',
      5_000,
    );
    expect((await room.store.snapshot(dealId)).active).toBe(0);
    expect(tickets).toHaveLength(1);
  });
});
