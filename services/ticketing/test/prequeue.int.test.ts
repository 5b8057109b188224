import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketKeyring, createLogger, drawOrder, seedCommitment, verifyDraw } from '@quickdeal/core';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { PrequeueDraw, type DrawFaults } from '@quickdeal/ticketing';
import { PrequeueTickets } from '../src/prequeue-ticket.js';

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A deal whose pre-queue is open now and which opens in `opensInMs`. */
function prequeueDeal(opensInMs: number, extra: { paused?: boolean; stock?: number } = {}) {
  return room.createDeal({
    stock: extra.stock ?? 100,
    paused: extra.paused ?? false,
    opensAt: new Date(Date.now() + opensInMs).toISOString(),
    admission: { maxActiveShoppers: 100, checkoutWindow: '1m' },
    queue: { prequeue: '10m' },
  });
}

async function prequeue(dealId: string, count: number, prefix: string): Promise<Map<string, string>> {
  const tickets = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const answer = await room.takeTicket(dealId, `${prefix}${i}`);
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('PREQUEUED');
    tickets.set(`${prefix}${i}`, answer.body.ticket);
  }
  return tickets;
}

const draw = async (dealId: string) =>
  (await room.ticketing.request(`/api/v1/deals/${dealId}/draw`)).json() as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every placed record's queue number, by shopper. */
async function placed(own: WaitingRoom, dealId: string, shoppers: Iterable<string>): Promise<Map<string, number>> {
  const places = new Map<string, number>();
  for (const shopperId of shoppers) {
    const record = await own.store.shopperTicket(dealId, shopperId);
    if (record && record.state !== 'prequeued') places.set(shopperId, record.queueNumber);
  }
  return places;
}

const byQueueNumber = (places: Map<string, number>) => [...places].sort((a, b) => a[1] - b[1]).map(([shopperId]) => shopperId);

function drawerOf(own: WaitingRoom, options: { batchSize?: number; leaseMs?: number; faults?: DrawFaults } = {}) {
  return new PrequeueDraw(
    {
      store: own.store,
      producer: own.ticketProducer,
      topicPrefix: own.topicPrefix,
      logger: createLogger('draw-test', 'silent'),
      faults: options.faults,
    },
    { intervalMs: 100, leaseMs: options.leaseMs ?? 10_000, batchSize: options.batchSize ?? 1_000 },
  );
}

describe('the pre-queue and its draw at the open', () => {
  it('gives one signed pre-queue ticket per shopper, draws them into line at the open by the committed seed, and puts later arrivals behind', async () => {
    const { dealId } = await prequeueDeal(6_000);
    const before = await draw(dealId);
    expect(before).toMatchObject({ state: 'scheduled', seed: null, commitment: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const tickets = await prequeue(dealId, 30, 'pq');
    const first = await room.takeTicket(dealId, 'pq0');
    expect(first).toMatchObject({
      status: 200,
      body: { ticket: tickets.get('pq0'), status: 'PREQUEUED', drawCommitment: before.commitment },
    });
    expect((await room.prequeueStatus(dealId, 'pq1', tickets.get('pq1')!)).body).toMatchObject({ status: 'PREQUEUED', drawing: false });

    const done = await room.waitFor(
      () => draw(dealId),
      (d) => d.state === 'done',
    );
    expect(done).toMatchObject({ commitment: before.commitment, prequeued: 30 });
    expect(seedCommitment(done.seed)).toBe(before.commitment);
    const late = await room.takeTicket(dealId, 'late');
    expect(late.status).toBe(201);

    const places = await placed(room, dealId, tickets.keys());
    expect(places.size).toBe(30);
    expect(new Set(places.values()).size).toBe(30);
    const check = verifyDraw({
      seed: done.seed,
      commitment: before.commitment,
      shopperIds: tickets.keys(),
      publishedOrder: byQueueNumber(places),
    });
    expect(check).toMatchObject({ seedMatchesCommitment: true, firstMismatch: undefined });
    expect(late.body.queueNumber).toBeGreaterThan(Math.max(...places.values()));

    // the pre-queue ticket now hands over the drawn ticket; that one polls and pays like any other
    const handed = await room.prequeueStatus(dealId, 'pq3', tickets.get('pq3')!);
    expect(handed.body).toMatchObject({ status: 'ACCESS_DENIED', queueNumber: places.get('pq3') });
    expect((await room.status(dealId, 'pq3', handed.body.ticket)).body.queueNumber).toBe(places.get('pq3'));
    expect((await room.takeTicket(dealId, 'pq3')).body.ticket).toBe(handed.body.ticket);

    await room.startAdmission();
    try {
      const admissions = await room.waitFor(
        () => room.store.admissions(dealId),
        (a) => a.length === 31,
      );
      expect(admissions.map((a) => a.shopperId)).toEqual([...check.order, 'late']);
      const granted = await room.prequeueStatus(dealId, 'pq3', tickets.get('pq3')!);
      expect(granted.body.status).toBe('ACCESS_GRANTED');
      expect((await room.checkout(dealId, 'pq3', granted.body.ticket)).status).toBe(200);
    } finally {
      await room.stopAdmission();
    }
  });

  it('answers bad pre-queue tickets clearly and changes nothing: forged, another deal’s, another shopper’s, used where a place in line is needed', async () => {
    const { dealId } = await prequeueDeal(60_000);
    const other = await prequeueDeal(60_000);
    const tickets = await prequeue(dealId, 2, 'bad');
    const foreign = await prequeue(other.dealId, 1, 'bad');
    const forger = new PrequeueTickets(await TicketKeyring.create(await TicketKeyring.generateSigningJwk()));
    const forged = await forger.sign({
      sub: 'bad0',
      deal: dealId,
      jti: 'x',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 3600,
    });

    expect((await room.prequeueStatus(dealId, 'bad0', forged)).body.error.code).toBe('TICKET_INVALID');
    expect((await room.prequeueStatus(dealId, 'bad0', foreign.get('bad0')!)).body.error.code).toBe('TICKET_FOREIGN');
    expect((await room.prequeueStatus(dealId, 'bad0', tickets.get('bad1')!)).body.error.code).toBe('TICKET_NOT_YOURS');
    const asTicket = await room.status(dealId, 'bad0', tickets.get('bad0')!);
    expect(asTicket.status).toBe(401);
    expect((await room.checkout(dealId, 'bad0', tickets.get('bad0')!)).status).toBe(401);
    await sleep(300); // the deal cache's refresh
    expect((await draw(dealId)).prequeued).toBe(2);

    // no pre-queue before it opens, and none for a deal without one
    const early = await room.createDeal({
      stock: 5,
      opensAt: new Date(Date.now() + 3_600_000).toISOString(),
      queue: { prequeue: '10m' },
    });
    expect((await room.takeTicket(early.dealId, 'early')).body.error.code).toBe('DEAL_NOT_OPEN');
    const none = await room.createDeal({ stock: 5, opensAt: new Date(Date.now() + 60_000).toISOString() });
    expect((await room.takeTicket(none.dealId, 'early')).body.error.code).toBe('DEAL_NOT_OPEN');
    expect((await room.ticketing.request(`/api/v1/deals/${none.dealId}/draw`)).status).toBe(404);
  });
});

describe('a draw that is interrupted', () => {
  it('resumes after the drawing process dies halfway: nobody lost, nobody placed twice, the drawn order kept; arrivals wait for it, and a pause holds admission only', async () => {
    const own = await startWaitingRoom({ startAdmission: false, draw: false });
    try {
      const { dealId, spec } = await own.createDeal({
        stock: 100,
        paused: true,
        // room for 25 pre-queue requests on a busy machine
        opensAt: new Date(Date.now() + 8_000).toISOString(),
        admission: { maxActiveShoppers: 100, checkoutWindow: '1m' },
        queue: { prequeue: '10m' },
      });
      const shoppers: string[] = [];
      for (let i = 0; i < 25; i++) {
        expect((await own.takeTicket(dealId, `c${i}`)).status).toBe(201);
        shoppers.push(`c${i}`);
      }
      await sleep(Math.max(0, Date.parse(spec.opensAt) - Date.now() + 50));

      // the open has come, the draw has not run: a newcomer is asked to come back, a pre-queued shopper is not turned away
      const newcomer = await own.takeTicket(dealId, 'newcomer');
      expect(newcomer.status).toBe(429);
      expect(newcomer.body.error.code).toBe('DRAW_IN_PROGRESS');
      expect(newcomer.headers.get('Retry-After')).toBe('1');
      expect((await own.takeTicket(dealId, 'c0')).body).toMatchObject({ status: 'PREQUEUED', drawing: true });

      const drawer = (options: Parameters<typeof drawerOf>[1]) => drawerOf(own, options);
      const dying = drawer({
        batchSize: 10,
        leaseMs: 3_000,
        faults: {
          afterWrite: (_deal, batch) => {
            if (batch === 1) throw new Error('killed after writing batch 1, before placing it');
          },
        },
      });
      await expect(dying.draw(dealId)).rejects.toThrow('killed');
      expect((await own.store.snapshot(dealId)).draw?.state).toBe('drawing');
      expect((await placed(own, dealId, shoppers)).size).toBe(10);

      // another process: held off while the dead one's lease lasts, then it carries on
      const successor = drawer({ batchSize: 10, leaseMs: 3_000 });
      await successor.draw(dealId);
      expect((await own.store.snapshot(dealId)).draw?.state).toBe('drawing');
      await sleep(3_100);
      await successor.draw(dealId);
      const after = await own.store.snapshot(dealId);
      expect(after.draw?.state).toBe('done');
      expect(after.issued).toBe(25);

      const places = await placed(own, dealId, shoppers);
      expect(places.size).toBe(25);
      expect(new Set(places.values()).size).toBe(25);
      expect(byQueueNumber(places)).toEqual(drawOrder(after.draw!.seed!, shoppers));
      // batch 1 went to the log twice: 35 messages for 25 shoppers
      expect((await own.admin.fetchTopicOffsets(own.registry.topicFor(dealId)))[0]?.high).toBe('35');

      expect((await own.takeTicket(dealId, 'newcomer')).status).toBe(201);
      await own.startAdmission();
      await sleep(800);
      expect(await own.store.admissionCount(dealId)).toBe(0);
      await own.registry.apply(dealId, { ...spec, paused: false });
      const admissions = await own.waitFor(
        () => own.store.admissions(dealId),
        (a) => a.length === 26,
      );
      expect(admissions.map((a) => a.shopperId)).toEqual([...drawOrder(after.draw!.seed!, shoppers), 'newcomer']);
      await sleep(300);
      expect(await own.store.admissionCount(dealId)).toBe(26);
    } finally {
      await own.close();
    }
  });

  it('fences a drawer whose lease lapsed: once another holds the draw, its batches are refused', async () => {
    const own = await startWaitingRoom({ startAdmission: false, draw: false });
    try {
      const opensAt = Date.now() + 3_000;
      const { dealId } = await own.createDeal({ stock: 5, opensAt: new Date(opensAt).toISOString(), queue: { prequeue: '10m' } });
      expect((await own.takeTicket(dealId, 'f0')).status).toBe(201);
      await sleep(Math.max(0, opensAt - Date.now() + 100));
      const a = await own.store.claimDraw(dealId, 'holder-a', 200);
      expect(a).toMatchObject({ outcome: 'claimed' });
      expect(await own.store.claimDraw(dealId, 'holder-b', 5_000)).toEqual({ outcome: 'busy' });
      await sleep(300);
      const b = await own.store.claimDraw(dealId, 'holder-b', 5_000);
      expect(b).toMatchObject({ outcome: 'claimed' });
      if (a.outcome !== 'claimed' || b.outcome !== 'claimed') return;
      expect(Number(b.fence)).toBeGreaterThan(Number(a.fence));
      const batch = {
        index: 0,
        last: true,
        expiresAtMs: Date.now() + 60_000,
        shoppers: [{ shopperId: 'f0', jti: 'whatever', queueNumber: 1 }],
      };
      expect(await own.store.placeDrawn(dealId, { fence: a.fence, holder: 'holder-a', leaseMs: 200 }, batch)).toBe('fenced');
      expect((await own.store.snapshot(dealId)).draw?.state).toBe('drawing');
      expect((await own.store.shopperTicket(dealId, 'f0'))?.state).toBe('prequeued');
    } finally {
      await own.close();
    }
  });
});
