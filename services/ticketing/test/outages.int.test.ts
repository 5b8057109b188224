import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '@quickdeal/dev/profiles';
import { ensureKafka, ensurePostgres, ensureRedis, stopServer } from '@quickdeal/dev/stack';
import { holdFaultServers, startWaitingRoom, uniqueName, type WaitingRoom } from '@quickdeal/dev/testing';

// These tests stop and restart servers, so they use the `fault` profile's own Kafka, Redis and
// Postgres; they live in this one file so that no two of them run at once.
const fault = endpoints('fault');
const test = endpoints('test');

let release: (() => void) | undefined;
beforeAll(async () => {
  release = await holdFaultServers();
  await Promise.all([ensureKafka('fault'), ensureRedis('fault'), ensurePostgres('fault')]);
}, 660_000);
afterAll(() => release?.());

/** Every message in a topic: queue number → shopper. */
async function readLog(room: WaitingRoom, topic: string, expected: number): Promise<Map<number, string>> {
  const consumer = room.kafka.consumer({ groupId: `${room.groupId}-audit-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const log = new Map<number, string>();
  await consumer.run({
    eachMessage: async ({ message }) => {
      try {
        log.set(Number(message.offset) + 1, JSON.parse(message.value!.toString()).sub);
      } catch {
        log.set(Number(message.offset) + 1, '');
      }
    },
  });
  await room.waitFor(
    async () => log.size,
    (n) => n >= expected,
    30_000,
  );
  await consumer.disconnect();
  return log;
}

describe('a Kafka broker restart while tickets are issued', () => {
  let room: WaitingRoom;
  beforeAll(async () => {
    room = await startWaitingRoom({ kafkaBrokers: fault.kafkaBrokers, startAdmission: false });
  });
  afterAll(async () => {
    await ensureKafka('fault');
    await room?.close();
  });

  it('loses no ticket it answered 201 for, and answers 503 (with nothing half-done) while the broker is away', async () => {
    const { dealId } = await room.createDeal({ stock: 1_000, admission: { maxActiveShoppers: 1_000, checkoutWindow: '5m' } });
    const topic = room.registry.topicFor(dealId);
    const issued = new Map<string, { queueNumber: number; ticket: string }>();
    const statuses: number[] = [];
    let stop = false;
    const shopper = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${worker}-${i}`;
        const answer = await room.takeTicket(dealId, id);
        statuses.push(answer.status);
        if (answer.status === 201) issued.set(id, { queueNumber: answer.body.queueNumber, ticket: answer.body.ticket });
        else expect(answer.status).toBe(503);
        if (answer.status === 503) {
          // nothing half-done: the shopper holds no ticket and may ask again
          expect(await room.store.shopperTicket(dealId, id)).toBeUndefined();
          expect(answer.body.error.code).toBe('QUEUE_UNAVAILABLE');
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => shopper(w));
    await room.waitFor(
      async () => issued.size,
      (n) => n >= 100,
      30_000,
    );
    await stopServer('fault', 'kafka');
    const before = issued.size;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await ensureKafka('fault');
    await room.waitFor(
      async () => issued.size,
      (n) => n >= before + 100,
      60_000,
    );
    stop = true;
    await Promise.all(workers);

    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    // every 201 ticket is in the log, at its queue number, under its shopper
    const highest = Math.max(...[...issued.values()].map((t) => t.queueNumber));
    const log = await readLog(room, topic, highest);
    for (const [id, { queueNumber, ticket }] of issued) {
      expect(log.get(queueNumber)).toBe(id);
      expect(decodeJwt(ticket).qn).toBe(queueNumber);
    }
    // and admission accounts for each of them exactly once
    await room.startAdmission();
    const deal = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === highest,
      60_000,
    );
    const admitted = await room.store.admissions(dealId);
    expect(new Set(admitted.map((a) => a.shopperId)).size).toBe(admitted.length);
    for (const id of issued.keys()) expect(admitted.some((a) => a.shopperId === id)).toBe(true);
    expect(deal.admitted).toBe(issued.size);
  });
});

describe('a Redis restart in the middle of a sale', () => {
  let room: WaitingRoom;
  beforeAll(async () => {
    room = await startWaitingRoom({ redisUrl: fault.redisUrl, backoffMs: 200 });
  });
  afterAll(async () => {
    await ensureRedis('fault');
    await room?.close();
  });

  it('keeps the line, the admissions and the held units, admits nobody twice and oversells nothing', async () => {
    const { dealId } = await room.createDeal({ stock: 6, admission: { maxActiveShoppers: 3, checkoutWindow: '5m' } });
    const tickets = new Map<string, string>();
    for (let i = 0; i < 10; i++) tickets.set(`r${i}`, (await room.takeTicket(dealId, `r${i}`)).body.ticket);
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.active === 3,
    );
    expect((await room.pay(dealId, 'r0', tickets.get('r0')!)).status).toBe(201);
    const before = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 4 && d.active === 3,
    );

    await stopServer('fault', 'redis');
    await ensureRedis('fault');
    const after = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.exists,
      15_000,
    );
    expect(after).toMatchObject({ served: before.served, active: before.active, sold: 1, admitted: before.admitted });

    // the sale goes on: pay for everyone admitted, the rest are let in, in order, until sold out
    for (let round = 0; round < 6; round++) {
      for (const [shopper, ticket] of tickets) {
        const state = (await room.store.shopperTicket(dealId, shopper))?.state;
        if (state === 'admitted') expect((await room.pay(dealId, shopper, ticket)).status).toBe(201);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const final = await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 10 && d.active === 0,
    );
    expect(final.sold).toBe(6);
    const orders = await room.db
      .selectFrom('orders')
      .select(['shopper_id', 'queue_number'])
      .where('deal_id', '=', dealId)
      .orderBy('queue_number')
      .execute();
    expect(orders.map((o) => o.shopper_id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect((await room.db.selectFrom('deals').select('sold').where('id', '=', dealId).executeTakeFirstOrThrow()).sold).toBe(6);
    const admitted = await room.store.admissions(dealId);
    expect(admitted.map((a) => a.queueNumber)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

/* Outages answered as outages: 503 with a `*_UNAVAILABLE` code and Retry-After, never 500. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expectOutage(answer: { status: number; headers: Headers; body: Record<string, any> }, code: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.body.error.code).toBe(code);
  expect(Number(answer.headers.get('Retry-After'))).toBeGreaterThan(0);
}

describe('Redis stopped in the middle of a sale', () => {
  let room: WaitingRoom;
  beforeAll(async () => {
    room = await startWaitingRoom({ redisUrl: fault.redisUrl });
  });
  afterAll(async () => {
    await ensureRedis('fault');
    await room?.close();
  });

  it('answers polls, checkouts, payments and tickets 503 REDIS_UNAVAILABLE with Retry-After, then goes on', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    const tickets: Record<string, string> = {};
    for (const shopper of ['ann', 'ben']) tickets[shopper] = (await room.takeTicket(dealId, shopper)).body.ticket;
    for (const shopper of ['ann', 'ben'])
      await room.waitFor(
        () => room.store.shopperTicket(dealId, shopper),
        (r) => r?.state === 'admitted',
      );
    await stopServer('fault', 'redis');
    try {
      expectOutage(await room.status(dealId, 'ann', tickets.ann!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.checkout(dealId, 'ben', tickets.ben!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.pay(dealId, 'ben', tickets.ben!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.takeTicket(dealId, 'cat'), 'REDIS_UNAVAILABLE');
    } finally {
      await ensureRedis('fault');
    }
    const paid = await room.waitFor(
      () => room.pay(dealId, 'ben', tickets.ben!, uniqueName('ben')),
      (a) => a.status !== 503,
    );
    expect(paid.status).toBe(201);
    expect((await room.status(dealId, 'ann', tickets.ann!)).body.status).toBe('ACCESS_GRANTED');
  });
});

describe('Postgres stopped in the middle of a sale', () => {
  let room: WaitingRoom;
  beforeAll(async () => {
    room = await startWaitingRoom({ profile: 'fault', redisUrl: test.redisUrl, kafkaBrokers: test.kafkaBrokers });
  });
  afterAll(async () => {
    await ensurePostgres('fault');
    await room?.close();
  });

  it('answers checkouts and payments 503 POSTGRES_UNAVAILABLE with Retry-After, leaves the checkout open, then takes the payment', async () => {
    const { dealId } = await room.createDeal({ stock: 5 });
    const ticket = (await room.takeTicket(dealId, 'dan')).body.ticket as string;
    const paymentKey = uniqueName('dan');
    await room.waitFor(
      () => room.store.shopperTicket(dealId, 'dan'),
      (r) => r?.state === 'admitted',
    );

    await stopServer('fault', 'postgres');
    try {
      expectOutage(await room.checkout(dealId, 'dan', ticket), 'POSTGRES_UNAVAILABLE');
      expectOutage(await room.pay(dealId, 'dan', ticket, paymentKey), 'POSTGRES_UNAVAILABLE');
      // nothing was charged and the checkout is still the shopper's, free to pay again
      expect(await room.store.shopperTicket(dealId, 'dan')).toMatchObject({ state: 'admitted' });
    } finally {
      await ensurePostgres('fault');
    }

    // Pooled connections the restart broke fail once each and are dropped; the checkout answers again before paying
    // (a payment whose claim meets a broken connection is the payment state machine's to settle, not this test's).
    let answeredInARow = 0;
    await room.waitFor(
      async () => ((await room.checkout(dealId, 'dan', ticket)).status === 200 ? ++answeredInARow : (answeredInARow = 0)),
      (n) => n >= 5,
    );
    const paid = await room.pay(dealId, 'dan', ticket, paymentKey);
    expect(paid.status).toBe(201);
  });
});
