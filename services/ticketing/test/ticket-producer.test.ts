import { describe, expect, it } from 'vitest';
import { createLogger } from '@quickdeal/core';
import { TicketProducer, appendInOrder, type BatchMessage, type ProducerClient } from '../src/ticket-producer.js';

/** A stand-in for @platformatic/kafka: every producer it makes is numbered and fails as told. */
function fakeClients(plan: { failSends?: number[]; failConnects?: number[] } = {}) {
  const made: Array<{ id: number; sent: number; closed: boolean }> = [];
  const create = (): ProducerClient => {
    const record = { id: made.length, sent: 0, closed: false };
    made.push(record);
    return {
      async initIdempotentProducer() {
        if (plan.failConnects?.includes(record.id)) throw new Error('broker unreachable');
      },
      async send() {
        if (plan.failSends?.includes(record.id)) throw new Error('request timed out');
        record.sent++;
        return { offsets: [{ topic: 't', partition: 0, offset: BigInt(record.id) }] };
      },
      async close() {
        record.closed = true;
      },
    };
  };
  return { create, made };
}

const batch = { messages: [{ topic: 't', partition: 0, value: Buffer.from('x') }] satisfies BatchMessage[] };
const logger = createLogger('test', 'silent');

describe('the ticket producer', () => {
  it('sends on one producer until a send fails', async () => {
    const { create, made } = fakeClients();
    const producer = new TicketProducer(create, logger);
    await producer.connect();
    await producer.send(batch);
    await producer.send(batch);
    expect(made).toEqual([{ id: 0, sent: 2, closed: false }]);
    expect(producer.isReady()).toBe(true);
  });

  it('sends the batch after a failed one from a new producer (a new producer id), so the broker cannot take it for the failed one', async () => {
    const { create, made } = fakeClients({ failSends: [0] });
    const producer = new TicketProducer(create, logger);
    await producer.connect();
    await expect(producer.send(batch)).rejects.toThrow('request timed out');
    expect(made[0]?.closed).toBe(true);
    const { offsets } = await producer.send(batch);
    expect(offsets).toEqual([{ topic: 't', partition: 0, offset: 1n }]);
    expect(made.map((p) => p.sent)).toEqual([0, 1]);
  });

  it('is not ready while it cannot connect, and connects again when asked', async () => {
    const { create, made } = fakeClients({ failConnects: [0] });
    const producer = new TicketProducer(create, logger);
    await expect(producer.connect()).rejects.toThrow('broker unreachable');
    expect(producer.isReady()).toBe(false); // and starts a new attempt
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.isReady()).toBe(true);
    expect(made).toHaveLength(2);
    await producer.disconnect();
    expect(made.map((p) => p.closed)).toEqual([true, true]);
  });
});

describe('appending in order', () => {
  it('sends every topic’s messages to partition 0 in one send and numbers each by its offset + 1, offset 0 included', async () => {
    const sent: BatchMessage[][] = [];
    const producer = {
      async send({ messages }: { messages: BatchMessage[] }) {
        sent.push(messages);
        return {
          offsets: [
            { topic: 'b', partition: 0, offset: 0n },
            { topic: 'a', partition: 0, offset: 41n },
          ],
        };
      },
    };
    const value = (text: string) => Buffer.from(text);
    const numbers = await appendInOrder(
      producer,
      new Map([
        ['a', [value('a1'), value('a2')]],
        ['b', [value('b1')]],
      ]),
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.map((m) => [m.topic, m.partition, String(m.value)])).toEqual([
      ['a', 0, 'a1'],
      ['a', 0, 'a2'],
      ['b', 0, 'b1'],
    ]);
    expect(numbers).toEqual(
      new Map([
        ['a', [42, 43]],
        ['b', [1]],
      ]),
    );
  });

  it('fails when the broker acknowledged no offset for a topic', async () => {
    const producer = { send: async () => ({ offsets: [{ topic: 'a', partition: 0, offset: 0n }] }) };
    await expect(appendInOrder(producer, new Map([['b', [Buffer.from('x')]]]))).rejects.toThrow('no offset for b');
  });
});
