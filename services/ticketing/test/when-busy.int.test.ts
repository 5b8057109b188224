import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

const busyDeal = (stock: number, cap: number, extra: { maxAdmissionsPerMinute?: number } = {}) =>
  room.createDeal({ stock, admission: { maxActiveShoppers: cap, checkoutWindow: '1m', ...extra }, queue: { mode: 'WhenBusy' } });

describe('queue only when busy (spec.queue.mode: WhenBusy)', () => {
  it('admits a shopper of a quiet deal in the ticket request itself: 201 ACCESS_GRANTED with the checkout deadline, no consumer needed', async () => {
    const { dealId } = await busyDeal(5, 2);
    const before = Date.now();
    const answer = await room.takeTicket(dealId, 'quiet-1');
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'ACCESS_GRANTED', queueNumber: 1, position: 0 });
    const deadline = Date.parse(answer.body.checkoutExpiresAt);
    expect(deadline).toBeGreaterThanOrEqual(before + 60_000 - 1_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 60_000 + 1_000);
    expect((await room.checkout(dealId, 'quiet-1', answer.body.ticket)).status).toBe(200);
    expect(await room.store.admissions(dealId)).toMatchObject([{ queueNumber: 1, shopperId: 'quiet-1' }]);
    // asking again returns the same ticket, still granted
    const again = await room.takeTicket(dealId, 'quiet-1');
    expect(again).toMatchObject({ status: 200, body: { ticket: answer.body.ticket, status: 'ACCESS_GRANTED' } });
  });

  it('keeps Always deals queueing: the same quiet deal in Always mode answers ACCESS_DENIED', async () => {
    const { dealId } = await room.createDeal({ stock: 5, admission: { maxActiveShoppers: 2, checkoutWindow: '1m' } });
    const answer = await room.takeTicket(dealId, 'always-1');
    expect(answer.body).toMatchObject({ status: 'ACCESS_DENIED', position: 1 });
    expect(await room.store.admissions(dealId)).toEqual([]);
  });

  it('forms the line when the cap is reached, and a freed slot goes to the one waiting, never to a newcomer', async () => {
    const { dealId } = await busyDeal(10, 2);
    const first = await room.takeTicket(dealId, 'cap-1');
    const second = await room.takeTicket(dealId, 'cap-2');
    expect([first.body.status, second.body.status]).toEqual(['ACCESS_GRANTED', 'ACCESS_GRANTED']);
    // A position comes from ticketing's cached deal, which learns of cap-2's admission a pub/sub hop
    // later: the answer may count one more ahead; the shopper's polls settle on the exact place.
    const positionOf = async (shopperId: string, ticket: string, position: number) =>
      (
        await room.waitFor(
          () => room.status(dealId, shopperId, ticket),
          (answer) => answer.body.position === position,
        )
      ).body;
    const third = await room.takeTicket(dealId, 'cap-3');
    expect(third.body).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: 3 });
    expect(await positionOf('cap-3', third.body.ticket, 1)).toMatchObject({ status: 'ACCESS_DENIED', position: 1 });
    // a slot frees while cap-3 waits: the newcomer cap-4 must not take it
    expect((await room.cancel(dealId, 'cap-1', first.body.ticket)).status).toBe(204);
    const fourth = await room.takeTicket(dealId, 'cap-4');
    expect(fourth.body).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: 4 });
    expect(await positionOf('cap-4', fourth.body.ticket, 2)).toMatchObject({ status: 'ACCESS_DENIED', position: 2 });
    const consumer = await room.startAdmission();
    try {
      await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 3,
      );
      expect((await room.store.admissions(dealId)).map((a) => a.shopperId)).toEqual(['cap-1', 'cap-2', 'cap-3']);
      expect(await positionOf('cap-4', fourth.body.ticket, 1)).toMatchObject({ status: 'ACCESS_DENIED', position: 1 });
    } finally {
      await consumer.stop();
      await room.stopAdmission();
    }
  });

  it('lets no concurrent arrival overtake another at the switch: the admitted are exactly the lowest queue numbers, in order', async () => {
    const { dealId } = await busyDeal(100, 10);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => room.takeTicket(dealId, `rush-${i}`)));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const grantedAtOnce = answers.filter((a) => a.body.status === 'ACCESS_GRANTED').map((a) => a.body.queueNumber as number);
    expect(grantedAtOnce.length).toBeGreaterThan(0);
    expect(grantedAtOnce.length).toBeLessThanOrEqual(10);
    await room.startAdmission();
    try {
      const admissions = await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 10,
      );
      expect(admissions.map((a) => a.queueNumber)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      for (const qn of grantedAtOnce) expect(qn).toBeLessThanOrEqual(10);
      expect((await room.store.snapshot(dealId)).active).toBe(10);
    } finally {
      await room.stopAdmission();
    }
  });

  it('does not admit at once while the deal is paused, or faster than its inflow rate', async () => {
    const paused = await room.createDeal({
      stock: 5,
      paused: true,
      admission: { maxActiveShoppers: 2, checkoutWindow: '1m' },
      queue: { mode: 'WhenBusy' },
    });
    expect((await room.takeTicket(paused.dealId, 'p-1')).body.status).toBe('ACCESS_DENIED');

    const { dealId } = await busyDeal(5, 5, { maxAdmissionsPerMinute: 1 });
    expect((await room.takeTicket(dealId, 'r-1')).body.status).toBe('ACCESS_GRANTED');
    const second = await room.takeTicket(dealId, 'r-2');
    expect(second.body.status).toBe('ACCESS_DENIED');
    // one a minute: the estimate says so, and polls are spaced out accordingly
    expect(second.body.etaSeconds).toBeGreaterThanOrEqual(60);
    expect(second.body.pollAfterMs).toBeGreaterThan(1_000);
  });

  it('switches mode mid-sale without reordering: WhenBusy behind a waiting line still queues, Always stops admitting at once', async () => {
    const { dealId, spec } = await room.createDeal({ stock: 10, admission: { maxActiveShoppers: 5, checkoutWindow: '1m' } });
    const waiting = await room.takeTicket(dealId, 'mode-1');
    expect(waiting.body.status).toBe('ACCESS_DENIED');
    await room.registry.apply(dealId, { ...spec, queue: { ...spec.queue, mode: 'WhenBusy' } });
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.queueMode === 'WhenBusy',
    );
    // mode-1 waits (no consumer runs): a newcomer must queue behind, slots free or not
    expect((await room.takeTicket(dealId, 'mode-2')).body).toMatchObject({ status: 'ACCESS_DENIED', position: 2 });
    await room.startAdmission();
    try {
      await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 2,
      );
      expect((await room.store.admissions(dealId)).map((a) => a.shopperId)).toEqual(['mode-1', 'mode-2']);
      // the line is empty: the next one walks straight in
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await room.takeTicket(dealId, 'mode-3')).body.status).toBe('ACCESS_GRANTED');
      await room.registry.apply(dealId, { ...spec, queue: { ...spec.queue, mode: 'Always' } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await room.takeTicket(dealId, 'mode-4')).body.status).toBe('ACCESS_DENIED');
    } finally {
      await room.stopAdmission();
    }
  });
});
