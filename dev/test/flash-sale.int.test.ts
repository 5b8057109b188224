import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '../src/testing/waiting-room.js';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200, sweepIntervalMs: 50, dealRefreshMs: 100 });
});
afterAll(async () => {
  await room?.close();
});

type Plan = 'pay' | 'cancel' | 'walk-away';

describe('a small flash sale', () => {
  it('500 shoppers race for 20 units with a cap of 5: in order, within the cap, nothing oversold, every ticket accounted for', async () => {
    const stock = 20;
    const cap = 5;
    const { dealId } = await room.createDeal({ stock, admission: { maxActiveShoppers: cap, checkoutWindow: '2s' } });
    const shoppers = Array.from({ length: 500 }, (_, i) => ({
      id: `fs${i}`,
      plan: (['pay', 'pay', 'cancel', 'walk-away'] as Plan[])[i % 4]!,
    }));

    let maxActive = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxActive = Math.max(maxActive, (await room.store.snapshot(dealId)).active);
        await sleep(20);
      }
    })();

    // everyone arrives at once
    const tickets = new Map<string, { ticket: string; queueNumber: number }>();
    const arrivals = await Promise.all(shoppers.map((s) => room.takeTicket(dealId, s.id)));
    arrivals.forEach((answer, i) => {
      expect(answer.status).toBe(201);
      tickets.set(shoppers[i]!.id, { ticket: answer.body.ticket, queueNumber: answer.body.queueNumber });
    });

    const outcomes = new Map<string, string>();
    const unexpected: string[] = [];
    const journey = async ({ id, plan }: { id: string; plan: Plan }) => {
      const { ticket } = tickets.get(id)!;
      for (;;) {
        const poll = await room.status(dealId, id, ticket);
        if (poll.status !== 200) unexpected.push(`${id} poll ${poll.status}`);
        const status = poll.body.status as string;
        if (status === 'ITEM_SOLD_OUT' || status === 'ACCESS_EXPIRED' || status === 'PURCHASED') return outcomes.set(id, status);
        if (status === 'ACCESS_GRANTED') {
          if (plan === 'pay') {
            const paid = await room.pay(dealId, id, ticket);
            // a unit held within its window is the holder's: paying must work
            if (paid.status !== 201) unexpected.push(`${id} pay ${paid.status} ${paid.body.error?.code}`);
            return outcomes.set(id, 'PURCHASED');
          }
          if (plan === 'cancel') {
            const cancelled = await room.cancel(dealId, id, ticket);
            if (cancelled.status !== 204) unexpected.push(`${id} cancel ${cancelled.status}`);
            return outcomes.set(id, 'CANCELLED');
          }
          // walks away: the sweeper must give the unit back at the deadline
          outcomes.set(id, 'WALKED_AWAY');
          return;
        }
        await sleep(Math.min(poll.body.pollAfterMs ?? 1_000, 400));
      }
    };
    await Promise.all(shoppers.map(journey));
    const final = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 500 && d.active === 0,
      120_000,
    );
    sampling = false;
    await sampler;

    expect(unexpected).toEqual([]);
    // no oversell, in Postgres itself
    const deal = await room.db.selectFrom('deals').select(['sold', 'stock']).where('id', '=', dealId).executeTakeFirstOrThrow();
    const orders = await room.db.selectFrom('orders').select(['shopper_id', 'queue_number']).where('deal_id', '=', dealId).execute();
    expect(deal.sold).toBe(stock);
    expect(orders).toHaveLength(stock);
    expect(final.sold).toBe(stock);
    // the cap held all along
    expect(maxActive).toBeLessThanOrEqual(cap);
    expect(maxActive).toBe(cap);
    // strict FIFO: admissions happened in queue-number order
    const admissions = await room.store.admissions(dealId);
    const order = admissions.map((a) => a.queueNumber);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const admission of admissions) expect(tickets.get(admission.shopperId)?.queueNumber).toBe(admission.queueNumber);
    // one each
    expect(new Set(admissions.map((a) => a.shopperId)).size).toBe(admissions.length);
    expect(new Set(orders.map((o) => o.shopper_id)).size).toBe(orders.length);
    // every 201 ticket ended admitted or sold out, and the counts agree
    const admittedIds = new Set(admissions.map((a) => a.shopperId));
    for (const { id } of shoppers) {
      const state = (await room.store.shopperTicket(dealId, id))?.state;
      if (admittedIds.has(id)) expect(['purchased', 'expired']).toContain(state);
      else expect(state).toBe('soldout');
    }
    expect(final.admitted + final.soldOutTickets + final.skipped).toBe(500);
    expect(final.admitted).toBe(admissions.length);
    // walked-away and cancelled units went back: everything admitted but unpaid was returned
    expect(final.expired + final.cancelled + final.purchased).toBe(final.admitted);
    expect([...outcomes.values()].filter((o) => o === 'PURCHASED')).toHaveLength(stock);
  }, 240_000); // never fails for being slow: on two busy cores the sale can take minutes
});
