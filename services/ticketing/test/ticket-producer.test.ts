import type { Kafka, Producer, ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@quickdeal/core';
import { TicketProducer } from '../src/ticket-producer.js';

/** A stand-in for kafkajs: every producer it makes is numbered and fails as told. */
function fakeKafka(plan: { failSends?: number[]; failConnects?: number[] } = {}) {
  const made: Array<{ id: number; config: unknown; sent: number; disconnected: boolean }> = [];
  const kafka = {
    producer(config: unknown) {
      const record = { id: made.length, config, sent: 0, disconnected: false };
      made.push(record);
      return {
        async connect() {
          if (plan.failConnects?.includes(record.id)) throw new Error('broker unreachable');
        },
        async sendBatch(_batch: ProducerBatch) {
          if (plan.failSends?.includes(record.id)) throw new Error('request timed out');
          record.sent++;
          return [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: String(record.id) }];
        },
        async disconnect() {
          record.disconnected = true;
        },
      } as unknown as Producer;
    },
  } as unknown as Pick<Kafka, 'producer'>;
  return { kafka, made };
}

const batch: ProducerBatch = { acks: -1, topicMessages: [{ topic: 't', messages: [{ value: 'x' }] }] };
const logger = createLogger('test', 'silent');

describe('the ticket producer', () => {
  it('is idempotent, and sends on until a send fails', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TicketProducer(kafka, { maxInFlightRequests: 1 }, logger);
    await producer.connect();
    await producer.sendBatch(batch);
    await producer.sendBatch(batch);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ sent: 2, config: { idempotent: true, maxInFlightRequests: 1 } });
    expect(producer.isReady()).toBe(true);
  });

  it('never lets the broker create a missing deal topic: the queue assumes one partition, which only the operator guarantees', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TicketProducer(kafka, { allowAutoTopicCreation: true }, logger);
    await producer.connect();
    expect(made[0]?.config).toMatchObject({ allowAutoTopicCreation: false, idempotent: true });
  });

  it('sends the batch after a failed one from a new producer (a new producer id), so the broker cannot take it for the failed one', async () => {
    const { kafka, made } = fakeKafka({ failSends: [0] });
    const producer = new TicketProducer(kafka, {}, logger);
    await producer.connect();
    await expect(producer.sendBatch(batch)).rejects.toThrow('request timed out');
    expect(made[0]?.disconnected).toBe(true);
    const [result] = await producer.sendBatch(batch);
    expect(result?.baseOffset).toBe('1');
    expect(made.map((p) => p.sent)).toEqual([0, 1]);
  });

  it('is not ready while it cannot connect, and connects again when asked', async () => {
    const { kafka, made } = fakeKafka({ failConnects: [0] });
    const producer = new TicketProducer(kafka, {}, logger);
    await expect(producer.connect()).rejects.toThrow('broker unreachable');
    expect(producer.isReady()).toBe(false); // and starts a new attempt
    await new Promise((resolve) => setImmediate(resolve));
    expect(producer.isReady()).toBe(true);
    expect(made).toHaveLength(2);
    await producer.disconnect();
    expect(made[1]?.disconnected).toBe(true);
  });
});
