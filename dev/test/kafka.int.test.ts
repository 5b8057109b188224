import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, type EachMessagePayload, Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { endpoints } from '../src/profiles.js';
import { eventually } from '../src/testing/eventually.js';

const run = randomUUID().slice(0, 8);
const topic = `quickdeal.test.roundtrip-${run}`;
const groupId = `quickdeal-test-${run}`;
const kafka = new Kafka({ clientId: 'quickdeal-dev-test', brokers: endpoints('test').kafkaBrokers, logLevel: logLevel.ERROR });
const admin = kafka.admin();
const consumers: Consumer[] = [];

/** A consumer that rejoins in ~3 s instead of 30 (PLATFORM.md) and fetches without the 5 s default wait. */
function groupMember(): Consumer {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 6_000,
    rebalanceTimeout: 3_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
  });
  consumers.push(consumer);
  return consumer;
}

/** A new group member reading the topic (from the group's committed offset, else the start) into `seen`, without committing unless `then` does. */
async function readingMember(seen: string[], then?: (member: Consumer, payload: EachMessagePayload) => Promise<void>): Promise<Consumer> {
  const member = groupMember();
  await member.connect();
  await member.subscribe({ topic, fromBeginning: true });
  await member.run({
    autoCommit: false,
    eachMessage: async (payload) => {
      seen.push(payload.message.value?.toString() ?? '');
      await then?.(member, payload);
    },
  });
  return member;
}

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

describe('kafka (kafkajs 2.2.4 against the local broker)', () => {
  const values = Array.from({ length: 100 }, (_, i) => `ticket-${i}`);

  it('creates a single-partition topic through the admin API', async () => {
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    expect(await admin.listTopics()).toContain(topic);
  });

  it('acknowledges 100 messages from an idempotent producer with acks -1, at consecutive offsets', async () => {
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (let i = 0; i < values.length; i += 25) {
        const [result] = await producer.send({
          topic,
          acks: -1,
          messages: values.slice(i, i + 25).map((value) => ({ value })),
        });
        expect(result?.errorCode).toBe(0);
        expect(result?.baseOffset).toBe(String(i)); // the offset is the message's place in line
      }
    } finally {
      await producer.disconnect();
    }
    const [offsets] = await admin.fetchTopicOffsets(topic);
    expect(offsets?.high).toBe('100');
  });

  it('reads them in order in a consumer group and resumes after the committed offset when a new member takes over', async () => {
    const seenByFirst: string[] = [];
    const first = await readingMember(seenByFirst, async (member, { partition, message }) => {
      const next = Number(message.offset) + 1;
      // Commit only the first 60: the rest counts as read but not processed.
      if (next <= 60) await member.commitOffsets([{ topic, partition, offset: String(next) }]);
    });
    await eventually('the first member to read 100 messages', async () => seenByFirst.length >= 100 || undefined, 30_000, 50);
    expect(seenByFirst).toEqual(values);
    await first.disconnect();

    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '60' })]);

    const seenBySecond: string[] = [];
    await readingMember(seenBySecond);
    await eventually(
      'the second member to read the 40 uncommitted messages',
      async () => seenBySecond.length >= 40 || undefined,
      30_000,
      50,
    );
    await sleep(300); // nothing more may arrive
    expect(seenBySecond).toEqual(values.slice(60));
  });
});
