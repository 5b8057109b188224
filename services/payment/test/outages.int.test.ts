/**
 * Outages answered as outages: with Redis or Postgres stopped mid-sale, polls, checkouts and
 * payments answer 503 with a `*_UNAVAILABLE` code and Retry-After (never 500), and the same
 * shoppers carry on once the server is back. Uses the `fault` profile's own Redis and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoints } from '../../../dev/src/profiles.js';
import { ensurePostgres } from '../../../dev/src/servers/postgres.js';
import { ensureRedis } from '../../../dev/src/servers/redis.js';
import { stopServer } from '../../../dev/src/supervisor.js';
import { startWaitingRoom, uniqueName, type WaitingRoom } from '../../../dev/src/testing/waiting-room.js';

const fault = endpoints('fault');
const test = endpoints('test');

beforeAll(async () => {
  await Promise.all([ensureRedis('fault'), ensurePostgres('fault')]);
}, 180_000);

function expectOutage(answer: { status: number; headers: Headers; body: Record<string, any> }, code: string) { // eslint-disable-line @typescript-eslint/no-explicit-any
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
    for (const shopper of ['ann', 'ben']) await room.waitFor(() => room.store.shopperTicket(dealId, shopper), (r) => r?.state === 'admitted');
    await stopServer('fault', 'redis');
    try {
      expectOutage(await room.status(dealId, 'ann', tickets.ann!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.checkout(dealId, 'ben', tickets.ben!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.pay(dealId, 'ben', tickets.ben!), 'REDIS_UNAVAILABLE');
      expectOutage(await room.takeTicket(dealId, 'cat'), 'REDIS_UNAVAILABLE');
    } finally {
      await ensureRedis('fault');
    }
    const paid = await room.waitFor(() => room.pay(dealId, 'ben', tickets.ben!, uniqueName('ben')), (a) => a.status !== 503);
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
    await room.waitFor(() => room.store.shopperTicket(dealId, 'dan'), (r) => r?.state === 'admitted');

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
    await room.waitFor(async () => ((await room.checkout(dealId, 'dan', ticket)).status === 200 ? ++answeredInARow : (answeredInARow = 0)), (n) => n >= 5);
    const paid = await room.pay(dealId, 'dan', ticket, paymentKey);
    expect(paid.status).toBe(201);
  });
});
