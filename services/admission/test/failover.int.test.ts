import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';

/**
 * Redis replicates asynchronously, so a failover can hand the deal to a replica that had not yet
 * received the last admissions: the deal's keys go back to an earlier, consistent copy (a Lua
 * script's writes replicate as one). These tests make that happen on purpose by saving the deal's
 * keys and restoring them later, which is exactly what the promoted replica would hold.
 */
let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ backoffMs: 200 });
});
afterAll(async () => {
  await room?.close();
});

type SavedKeys = { key: string; dump: Buffer; ttl: number }[];

async function saveDealKeys(dealId: string): Promise<SavedKeys> {
  const redis = room.store.redis;
  const keys = await redis.keys(`qd:{${dealId}}:*`);
  const saved: SavedKeys = [];
  for (const key of keys) {
    const dump = await redis.dumpBuffer(key);
    if (dump) saved.push({ key, dump, ttl: await redis.pttl(key) });
  }
  return saved;
}

/** What the promoted replica holds: the saved copy, and nothing written since. */
async function failOverTo(dealId: string, saved: SavedKeys): Promise<void> {
  const redis = room.store.redis;
  const kept = new Set(saved.map(({ key }) => key));
  const since = (await redis.keys(`qd:{${dealId}}:*`)).filter((key) => !kept.has(key));
  const replica = redis.multi();
  if (since.length > 0) replica.del(...since);
  for (const { key, dump, ttl } of saved) replica.restore(key, ttl > 0 ? ttl : 0, dump, 'REPLACE');
  await replica.exec();
}

async function queueShoppers(dealId: string, names: string[]) {
  const tickets = new Map<string, string>();
  for (const name of names) {
    const answer = await room.takeTicket(dealId, name);
    expect(answer.status).toBe(201);
    tickets.set(name, answer.body.ticket);
  }
  return tickets;
}

const granted = (dealId: string, shopper: string, ticket: string) =>
  room.waitFor(
    () => room.status(dealId, shopper, ticket),
    (s) => s.body.status === 'ACCESS_GRANTED',
    10_000,
  );

describe('admission after a Redis failover that lost admissions', () => {
  it('reads the log again from the last admission Redis kept: nobody stranded, nobody admitted twice, order kept', async () => {
    const { dealId } = await room.createDeal({ stock: 20, admission: { maxActiveShoppers: 20, checkoutWindow: '5m' } });
    await queueShoppers(dealId, ['a0', 'a1', 'a2']);
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 3,
    );
    await room.stopAdmission();
    const lost = await queueShoppers(dealId, ['a3', 'a4', 'a5']);
    const replicaCopy = await saveDealKeys(dealId); // a3…a5 hold tickets, nobody admitted them yet
    await room.startAdmission();
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 6,
    );

    await failOverTo(dealId, replicaCopy); // the admissions of a3…a5 are gone; the consumer has read past them
    const late = await queueShoppers(dealId, ['a6']);

    for (const [shopper, ticket] of [...lost, ...late]) await granted(dealId, shopper, ticket);
    const admissions = await room.store.admissions(dealId);
    expect(admissions.map((a) => a.queueNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(admissions.map((a) => a.shopperId)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    expect(await room.store.snapshot(dealId)).toMatchObject({ served: 7, active: 7, admitted: 7 });
  });

  it('finds the lost admissions without a new ticket to read: the consumer checks the watermark Redis kept', async () => {
    const { dealId } = await room.createDeal({ stock: 20, admission: { maxActiveShoppers: 20, checkoutWindow: '5m' } });
    await queueShoppers(dealId, ['b0']);
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 1,
    );
    await room.stopAdmission();
    const lost = await queueShoppers(dealId, ['b1', 'b2']);
    const replicaCopy = await saveDealKeys(dealId);
    await room.startAdmission();
    await room.waitFor(
      () => room.store.snapshot(dealId),
      (d) => d.served === 3,
    );

    await failOverTo(dealId, replicaCopy); // the last tickets of the sale: nothing new will arrive
    for (const [shopper, ticket] of lost) await granted(dealId, shopper, ticket);
    expect((await room.store.admissions(dealId)).map((a) => a.shopperId)).toEqual(['b0', 'b1', 'b2']);
    expect(await room.store.snapshot(dealId)).toMatchObject({ served: 3, active: 3 });
  });
});
