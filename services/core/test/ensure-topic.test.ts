import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopic } from '../src/kafka.js';

const settings = { replicationFactor: 1, minInsyncReplicas: 1 };

/** What kafkajs rejects createTopics with when the broker it asks for leaders does not know the new topic yet. */
const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });

/** An admin whose createTopics creates the topic but fails as above; its metadata shows the leader after `unknownFor` asks. */
function lateMetadataAdmin(unknownFor: number) {
  let asked = 0;
  const admin = {
    listTopics: async () => [],
    createTopics: async () => Promise.reject(unknownTopic),
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      asked++;
      if (asked <= unknownFor) throw unknownTopic;
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1] }] })) };
    },
  };
  return { admin: admin as unknown as Admin, asked: () => asked };
}

describe('ensureTopic', () => {
  it('waits for the leader of a topic it created when the broker had not learnt of it yet, and says it created it', async () => {
    const { admin, asked } = lateMetadataAdmin(3);
    expect(await ensureTopic(admin, 'quickdeal.tickets.phone', settings)).toBe(true);
    expect(asked()).toBe(4);
  });

  it('passes on any other failure of the create', async () => {
    const refused = Object.assign(new Error('Topic authorization failed'), { type: 'TOPIC_AUTHORIZATION_FAILED' });
    const admin = { listTopics: async () => [], createTopics: async () => Promise.reject(refused) } as unknown as Admin;
    await expect(ensureTopic(admin, 'quickdeal.tickets.phone', settings)).rejects.toBe(refused);
  });
});
