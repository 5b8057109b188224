import { describe, expect, it } from 'vitest';
import type { FinalTicket, ReserveResult } from '@quickdeal/core';
import { TicketIssuer, type TicketLedger, type TicketRequest } from '../src/ticket-issuer.js';
import type { BatchMessage, BatchSender } from '../src/ticket-producer.js';

/** An in-memory stand-in for a producer: appends to per-topic logs and answers with base offsets, like a broker. */
function memoryProducer(options: { failNext?: boolean } = {}) {
  const logs = new Map<string, string[]>();
  const requests: number[] = [];
  const producer: BatchSender = {
    async send({ messages }: { messages: BatchMessage[] }) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (options.failNext) {
        options.failNext = false;
        throw new Error('broker unavailable');
      }
      requests.push(messages.length);
      const offsets = new Map<string, bigint>();
      for (const { topic, partition, value } of messages) {
        expect(partition).toBe(0);
        const log = logs.get(topic) ?? [];
        if (!offsets.has(topic)) offsets.set(topic, BigInt(log.length));
        log.push(JSON.parse(String(value)).sub as string);
        logs.set(topic, log);
      }
      return { offsets: [...offsets].map(([topic, offset]) => ({ topic, partition: 0, offset })) };
    },
  };
  return { producer, logs, requests };
}

/** An in-memory ledger with the scripts' rules for a shopper's record: pending, then waiting; one per shopper. */
function memoryLedger() {
  const records = new Map<string, { state: 'pending' | 'waiting'; jti: string; ticket?: FinalTicket }>();
  const calls = { reserve: 0, finalize: 0, abort: 0 };
  const key = (dealId: string, shopperId: string) => `${dealId}/${shopperId}`;
  const ledger: TicketLedger = {
    async reserveTickets(dealId, requests) {
      calls.reserve++;
      return requests.map(({ shopperId, jti }): ReserveResult => {
        const record = records.get(key(dealId, shopperId));
        if (record?.state === 'waiting')
          return { outcome: 'existing', token: record.ticket!.token, queueNumber: record.ticket!.queueNumber };
        if (record) return { outcome: record.jti === jti ? 'reserved' : 'pending' };
        records.set(key(dealId, shopperId), { state: 'pending', jti });
        return { outcome: 'reserved' };
      });
    },
    async finalizeTickets(dealId, tickets) {
      calls.finalize++;
      return tickets.map(({ shopperId, ticket }) => {
        const record = records.get(key(dealId, shopperId));
        if (record?.jti !== ticket.jti) return false;
        records.set(key(dealId, shopperId), { state: 'waiting', jti: ticket.jti, ticket });
        return true;
      });
    },
    async abortTickets(dealId, requests) {
      calls.abort++;
      for (const { shopperId, jti } of requests)
        if (records.get(key(dealId, shopperId))?.jti === jti) records.delete(key(dealId, shopperId));
    },
  };
  return { ledger, records, calls };
}

const signer = { sign: (claims: { sub: string; qn: number }) => `ticket:${claims.sub}:${claims.qn}` };

const request = (dealId: string, shopperId: string): TicketRequest => ({
  dealId,
  topic: `topic-${dealId}`,
  shopperId,
  jti: `jti-${shopperId}-${Math.random()}`,
  issuedAt: 1_000,
  expiresAt: 8_200,
  recordTtlMs: 60_000,
});

describe('the ticket issuer', () => {
  it('reserves, produces and records concurrent tickets in few calls, each numbered by its place in its deal’s log', async () => {
    const { producer, logs, requests } = memoryProducer();
    const { ledger, records, calls } = memoryLedger();
    const issuer = new TicketIssuer(ledger, producer, signer, { lingerMs: 1 });
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => issuer.issue(request(`d${i % 3}`, `s${i}`))));
    expect(requests.length).toBeLessThanOrEqual(3);
    expect(calls.reserve).toBeLessThanOrEqual(9); // one per deal per batch
    expect(calls.finalize).toBeLessThanOrEqual(9);
    results.forEach((result, i) => {
      expect(result.outcome).toBe('issued');
      if (result.outcome !== 'issued') return;
      expect(logs.get(`topic-d${i % 3}`)![result.queueNumber - 1]).toBe(`s${i}`);
      expect(result.token).toBe(`ticket:s${i}:${result.queueNumber}`);
      expect(records.get(`d${i % 3}/s${i}`)).toMatchObject({ state: 'waiting', ticket: { queueNumber: result.queueNumber } });
    });
    await issuer.drain();
  });

  it('answers every ticket of a batch whose produce failed `unavailable` and undoes its reservations, then goes on', async () => {
    const fake = memoryProducer({ failNext: true });
    const { ledger, records, calls } = memoryLedger();
    const issuer = new TicketIssuer(ledger, fake.producer, signer, { lingerMs: 1 });
    const failed = await Promise.all([issuer.issue(request('d', 'a')), issuer.issue(request('d', 'b'))]);
    expect(failed).toEqual([{ outcome: 'unavailable' }, { outcome: 'unavailable' }]);
    expect(calls.abort).toBe(1);
    expect(calls.finalize).toBe(0);
    expect(records.size).toBe(0);
    expect(await issuer.issue(request('d', 'a'))).toEqual({ outcome: 'issued', token: 'ticket:a:1', queueNumber: 1 });
  });

  it('answers what the reservation says without producing: one shopper asking twice in one batch is pending, then holds one ticket', async () => {
    const { producer, logs } = memoryProducer();
    const { ledger } = memoryLedger();
    const issuer = new TicketIssuer(ledger, producer, signer, { lingerMs: 5 });
    const [first, second] = await Promise.all([issuer.issue(request('d', 'ann')), issuer.issue(request('d', 'ann'))]);
    expect(first).toMatchObject({ outcome: 'issued', queueNumber: 1 });
    expect(second).toEqual({ outcome: 'pending' });
    expect(await issuer.issue(request('d', 'ann'))).toEqual({ outcome: 'existing', token: 'ticket:ann:1', queueNumber: 1 });
    expect(logs.get('topic-d')).toEqual(['ann']);
  });

  it('rejects the tickets of a batch whose reservation Redis refused, so the route answers the outage', async () => {
    const { producer, requests } = memoryProducer();
    const { ledger } = memoryLedger();
    const refused = new Error('connection refused');
    const issuer = new TicketIssuer({ ...ledger, reserveTickets: () => Promise.reject(refused) }, producer, signer, { lingerMs: 1 });
    await expect(issuer.issue(request('d', 'a'))).rejects.toBe(refused);
    expect(requests).toEqual([]);
  });

  it('caps a batch at maxBatch and sends the rest next', async () => {
    const { producer, requests } = memoryProducer();
    const { ledger } = memoryLedger();
    const issuer = new TicketIssuer(ledger, producer, signer, { lingerMs: 1, maxBatch: 100 });
    await Promise.all(Array.from({ length: 250 }, (_, i) => issuer.issue(request('d', `s${i}`))));
    expect(requests.every((n) => n <= 100)).toBe(true);
    expect(requests.reduce((a, b) => a + b, 0)).toBe(250);
  });
});
