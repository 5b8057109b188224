import type { Producer } from '@platformatic/kafka';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketSigner, createLogger, newTicketId } from '@quickdeal/core';
import { startWaitingRoom, type WaitingRoom } from '@quickdeal/dev/testing';
import { TicketIssuer, type TicketRequest } from '../src/ticket-issuer.js';
import { TicketProducer, platformaticProducer } from '../src/ticket-producer.js';

/* Tickets reserved, produced and recorded a batch at a time, against the test profile's Redis and Kafka. */

let room: WaitingRoom;

beforeAll(async () => {
  room = await startWaitingRoom({ startAdmission: false });
});
afterAll(async () => {
  await room?.close();
});

const requestFor = (dealId: string, topic: string, shopperId: string): TicketRequest => {
  const issuedAt = Math.floor(Date.now() / 1000);
  return { dealId, topic, shopperId, jti: newTicketId(), issuedAt, expiresAt: issuedAt + 7_200, recordTtlMs: 7_300_000 };
};

/** Deletes a deal's topic behind the room's back (with an admin of its own, so the room's clients keep no trace of it). */
async function deleteTopic(topic: string): Promise<void> {
  const admin = room.kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

/** An issuer on the room's Redis and Kafka that gathers for `lingerMs`, so that requests made together share a batch. */
function batchingIssuer(lingerMs: number) {
  const retry = { retries: 2, initialRetryTime: 100, maxRetryTime: 300 };
  const producer = new TicketProducer(
    () => platformaticProducer({ brokers: room.kafkaBrokers, clientId: `${room.id}-batches`, retry }),
    createLogger('test', 'silent'),
  );
  const issuer = new TicketIssuer(room.store, producer, new TicketSigner(room.keyring), { lingerMs });
  return { issuer, close: async () => (await issuer.drain(), await producer.disconnect()) };
}

describe("a deal's batch scripts", () => {
  it('reserve each request of a batch as if alone and in order, in one call', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    await room.takeTicket(dealId, 'holder');
    const results = await room.store.reserveTickets(dealId, [
      { shopperId: 'new', jti: 'j1' },
      { shopperId: 'holder', jti: 'j2' },
      { shopperId: 'new', jti: 'j3' }, // the same shopper again in the same batch: waits for the first
      { shopperId: 'new', jti: 'j1' }, // the first request re-sent: its own reservation
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['reserved', 'existing', 'pending', 'reserved']);
    expect(results[1]).toMatchObject({ queueNumber: 1 });
    expect(await room.store.shopperTicket(dealId, 'new')).toMatchObject({ state: 'pending', jti: 'j1' });
  });

  it('record only the reservations they were made for, count each ticket once, and undo only pending ones', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    await room.store.reserveTickets(dealId, [
      { shopperId: 'a', jti: 'ja' },
      { shopperId: 'b', jti: 'jb' },
      { shopperId: 'c', jti: 'jc' },
    ]);
    const ticket = (jti: string, queueNumber: number) => ({ jti, queueNumber, token: `token-${jti}`, expiresAtMs: Date.now() + 60_000 });
    const batch = [
      { shopperId: 'a', ticket: ticket('ja', 7), ttlMs: 60_000 },
      { shopperId: 'b', ticket: ticket('not-b', 8), ttlMs: 60_000 },
    ];
    expect(await room.store.finalizeTickets(dealId, batch)).toEqual([true, false]);
    expect(await room.store.finalizeTickets(dealId, batch)).toEqual([true, false]); // repeated: changes nothing
    const deal = await room.store.snapshot(dealId);
    expect(deal).toMatchObject({ issued: 1, lastQueueNumber: 7 });
    await room.store.abortTickets(dealId, [
      { shopperId: 'a', jti: 'ja' },
      { shopperId: 'b', jti: 'other' },
      { shopperId: 'c', jti: 'jc' },
    ]);
    expect(await room.store.shopperTicket(dealId, 'a')).toMatchObject({ state: 'waiting', queueNumber: 7 });
    expect(await room.store.shopperTicket(dealId, 'b')).toMatchObject({ state: 'pending', jti: 'jb' });
    expect(await room.store.shopperTicket(dealId, 'c')).toBeUndefined();
  });
});

describe('tickets issued in batches', () => {
  it('number a batch by its offsets and record each shopper’s own signed ticket', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    const topic = room.registry.topicFor(dealId);
    const { issuer, close } = batchingIssuer(20);
    try {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.issue(requestFor(dealId, topic, `s${i}`))));
      const numbers = results.map((r) => (r.outcome === 'issued' ? r.queueNumber : 0));
      expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      for (const [i, result] of results.entries()) {
        if (result.outcome !== 'issued') throw new Error(`s${i}: ${result.outcome}`);
        expect(decodeJwt(result.token)).toMatchObject({ sub: `s${i}`, deal: dealId, qn: result.queueNumber });
        expect(await room.store.shopperTicket(dealId, `s${i}`)).toMatchObject({
          state: 'waiting',
          queueNumber: result.queueNumber,
          token: result.token,
        });
      }
      expect(await room.store.snapshot(dealId)).toMatchObject({ issued: 50, lastQueueNumber: 50 });
      expect((await room.admin.fetchTopicOffsets(topic))[0]?.high).toBe('50');
    } finally {
      await close();
    }
  });

  it('answer every ticket of a batch whose produce fails unavailable, leaving no reservation and no record, then go on', async () => {
    const good = await room.createDeal({ stock: 10 });
    const broken = await room.createDeal({ stock: 10 });
    const goodTopic = room.registry.topicFor(good.dealId);
    const brokenTopic = room.registry.topicFor(broken.dealId);
    await deleteTopic(brokenTopic);
    const { issuer, close } = batchingIssuer(50);
    try {
      // Both deals' tickets share one batch; the broker refuses the missing topic, so the whole produce fails.
      const shoppers = Array.from({ length: 20 }, (_, i) => `m${i}`);
      const results = await Promise.all(
        shoppers.flatMap((shopperId) => [
          issuer.issue(requestFor(good.dealId, goodTopic, shopperId)),
          issuer.issue(requestFor(broken.dealId, brokenTopic, shopperId)),
        ]),
      );
      expect(results.every((r) => r.outcome === 'unavailable')).toBe(true);
      for (const shopperId of shoppers) {
        expect(await room.store.shopperTicket(good.dealId, shopperId)).toBeUndefined();
        expect(await room.store.shopperTicket(broken.dealId, shopperId)).toBeUndefined();
      }
      expect(await room.store.snapshot(good.dealId)).toMatchObject({ issued: 0 });
      expect((await room.admin.fetchTopicOffsets(goodTopic))[0]?.high).toBe('0');

      // The same shoppers may ask again at once, and get the first queue numbers.
      const again = await Promise.all(shoppers.map((shopperId) => issuer.issue(requestFor(good.dealId, goodTopic, shopperId))));
      expect(again.map((r) => (r.outcome === 'issued' ? r.queueNumber : 0)).sort((a, b) => a - b)).toEqual(shoppers.map((_, i) => i + 1));
    } finally {
      await close();
    }
  });

  it('are answered 503 QUEUE_UNAVAILABLE over HTTP when their produce fails, with nothing half-done', async () => {
    const { dealId } = await room.createDeal({ stock: 10 });
    await deleteTopic(room.registry.topicFor(dealId));
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => room.takeTicket(dealId, `h${i}`)));
    for (const [i, answer] of answers.entries()) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('QUEUE_UNAVAILABLE');
      expect(Number(answer.headers.get('Retry-After'))).toBeGreaterThan(0);
      expect(await room.store.shopperTicket(dealId, `h${i}`)).toBeUndefined();
    }
  });
});

describe('the ticket producer', () => {
  it('is idempotent (the broker gave it a producer id) and never creates a missing deal topic', async () => {
    const retry = { retries: 2, initialRetryTime: 50, maxRetryTime: 100 };
    const client = platformaticProducer({ brokers: room.kafkaBrokers, clientId: `${room.id}-idempotence`, retry }) as Producer<
      Buffer,
      Buffer,
      Buffer,
      Buffer
    >;
    try {
      await client.initIdempotentProducer({});
      expect(typeof client.producerId).toBe('bigint');
      const topic = `${room.topicPrefix}never-created`;
      await expect(client.send({ messages: [{ topic, partition: 0, value: Buffer.from('x') }] })).rejects.toThrow();
      expect(await room.admin.listTopics()).not.toContain(topic);
    } finally {
      await client.close();
    }
  });
});
