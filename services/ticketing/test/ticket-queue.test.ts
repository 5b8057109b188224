import type { Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { TicketQueue } from '../src/ticket-queue.js';

/** An in-memory stand-in for a producer: appends to per-topic logs and answers with base offsets, like a broker. */
function memoryProducer(options: { failNext?: boolean } = {}) {
  const logs = new Map<string, string[]>();
  const requests: number[] = [];
  const producer = {
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (options.failNext) {
        options.failNext = false;
        throw new Error('broker unavailable');
      }
      requests.push(batch.topicMessages!.reduce((n, t) => n + t.messages.length, 0));
      return batch.topicMessages!.map(({ topic, messages }) => {
        const log = logs.get(topic) ?? [];
        const baseOffset = log.length;
        log.push(...messages.map((m) => String(m.value)));
        logs.set(topic, log);
        return { topicName: topic, partition: 0, errorCode: 0, baseOffset: String(baseOffset) };
      });
    },
  } as unknown as Producer;
  return { producer, logs, requests };
}

describe('the ticket queue', () => {
  it('gathers concurrent tickets into few requests and tells each ticket its own offset, per topic', async () => {
    const { producer, logs, requests } = memoryProducer();
    const queue = new TicketQueue(producer, { lingerMs: 1 });
    const appends = Array.from({ length: 300 }, (_, i) => queue.append(`topic-${i % 3}`, Buffer.from(`t${i}`)));
    const offsets = await Promise.all(appends);
    expect(requests.length).toBeLessThanOrEqual(3);
    offsets.forEach((offset, i) => expect(logs.get(`topic-${i % 3}`)![offset]).toBe(`t${i}`));
    await queue.drain();
  });

  it('fails every ticket of a failed request, so none is answered as queued', async () => {
    const fake = memoryProducer({ failNext: true });
    const queue = new TicketQueue(fake.producer, { lingerMs: 1 });
    const results = await Promise.allSettled([queue.append('t', Buffer.from('a')), queue.append('t', Buffer.from('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await queue.append('t', Buffer.from('c'))).toBe(0);
  });

  it('caps a request at maxBatch and sends the rest next', async () => {
    const { producer, requests } = memoryProducer();
    const queue = new TicketQueue(producer, { lingerMs: 1, maxBatch: 100 });
    await Promise.all(Array.from({ length: 250 }, (_, i) => queue.append('t', Buffer.from(String(i)))));
    expect(requests.every((n) => n <= 100)).toBe(true);
    expect(requests.reduce((a, b) => a + b, 0)).toBe(250);
  });
});
