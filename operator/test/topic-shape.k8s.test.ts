/**
 * TopicReady against real Kafka and the real API server: a deal's topic that already exists with
 * more than one partition, or with fewer replicas than the operator is configured to create, is
 * reported (TopicReady=False, Ready=False, a Warning Event), never silently accepted; a broker that
 * refuses the replication asked for is a refusal, not an outage.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '@quickdeal/core';
import { connectDealRegistry, type Operator, type QuickDeal, type RegistryConnection } from '@quickdeal/operator';
import { endpoints } from '@quickdeal/dev/profiles';
import { uniqueName } from '@quickdeal/dev/testing';
import {
  conditionOf,
  createNamespace,
  createQuickDeal,
  deleteNamespace,
  eventsOf,
  quickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const stack = endpoints('test');
const topicPrefix = `qdtest.${uniqueName('shape').replace(/-/g, '')}.`;
const admin = createKafka({ brokers: stack.kafkaBrokers, clientId: 'topic-shape-test' }).admin();
let api: Clients;
/** Served by an operator that creates topics with one replica, as the test profile's one broker allows. */
let oneReplica: { namespace: string; connection: RegistryConnection; operator: Operator };
/** Served by an operator configured for two replicas, more than the broker can give. */
let twoReplicas: { namespace: string; connection: RegistryConnection; operator: Operator };

async function serve(namespace: string, replicationFactor: number) {
  const connection = await connectDealRegistry({
    redis: stack.redisUrl,
    postgresUrl: stack.postgresUrl,
    kafkaBrokers: stack.kafkaBrokers,
    topicPrefix,
    topicSettings: { replicationFactor, minInsyncReplicas: 1 },
  });
  const { operator } = await startOperator(cluster, connection.registry, namespace);
  return { namespace, connection, operator };
}

beforeAll(async () => {
  let namespace: string;
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-shape'));
  await admin.connect();
  oneReplica = await serve(namespace, 1);
  twoReplicas = await serve(await createNamespace(api, 'qd-shape-rf2'), 2);
});

afterAll(async () => {
  for (const served of [oneReplica, twoReplicas]) {
    if (!served) continue;
    await served.operator.stop();
    await deleteNamespace(api, served.namespace);
    await served.connection.close();
  }
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
});

const reasonsOf = async (namespace: string, name: string) => (await eventsOf(api, namespace, name)).map((event) => event.reason);
const topicReadyIs = (reason: string) => (deal: QuickDeal) => conditionOf(deal, 'TopicReady')?.reason === reason;

describe('TopicReady', () => {
  it('is True with the replication factor when the operator made the topic', async () => {
    const name = uniqueName('shape-ok');
    await createQuickDeal(api, oneReplica.namespace, quickDeal(name));
    const deal = await waitForDeal(api, oneReplica.namespace, name, 'TopicExists', topicReadyIs('TopicExists'));
    expect(conditionOf(deal, 'TopicReady')).toMatchObject({
      status: 'True',
      message: `Topic ${topicPrefix}${name} serves the line (one partition, strict order, replication factor 1)`,
    });
    expect(conditionOf(deal, 'Ready')?.status).toBe('True');
  });

  it('is False when the deal’s topic already exists with more than one partition', async () => {
    const name = uniqueName('shape-partitions');
    const topic = `${topicPrefix}${name}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
    await createQuickDeal(api, oneReplica.namespace, quickDeal(name));
    const deal = await waitForDeal(api, oneReplica.namespace, name, 'WrongPartitionCount', topicReadyIs('WrongPartitionCount'));
    expect(conditionOf(deal, 'TopicReady')).toMatchObject({
      status: 'False',
      message: expect.stringContaining(`Topic ${topic} has 3 partitions; a deal's line must be one partition`),
    });
    expect(conditionOf(deal, 'Ready')).toMatchObject({ status: 'False', reason: 'WrongPartitionCount' });
    // the topic is reported, not changed
    expect(await admin.fetchTopicOffsets(topic)).toHaveLength(3);
    // and reported once, however many resyncs (every 500 ms here) follow
    await sleep(1_500);
    expect((await reasonsOf(oneReplica.namespace, name)).filter((reason) => reason === 'WrongPartitionCount')).toHaveLength(1);
  });

  it('is False when the topic has fewer replicas than the operator is configured to create', async () => {
    const name = uniqueName('shape-replicas');
    const topic = `${topicPrefix}${name}`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await createQuickDeal(api, twoReplicas.namespace, quickDeal(name));
    const deal = await waitForDeal(api, twoReplicas.namespace, name, 'UnderReplicated', topicReadyIs('UnderReplicated'));
    expect(conditionOf(deal, 'TopicReady')).toMatchObject({
      status: 'False',
      message: expect.stringContaining(`Topic ${topic} has replication factor 1, below the 2 the operator is configured with`),
    });
    expect(conditionOf(deal, 'Ready')).toMatchObject({ status: 'False', reason: 'UnderReplicated' });
    expect(await reasonsOf(twoReplicas.namespace, name)).toContain('UnderReplicated');
  });

  it('is False, as a refusal and not an outage, when the broker cannot give the replicas asked for', async () => {
    const name = uniqueName('shape-refused');
    await createQuickDeal(api, twoReplicas.namespace, quickDeal(name));
    const deal = await waitForDeal(api, twoReplicas.namespace, name, 'TopicNotCreated', topicReadyIs('TopicNotCreated'));
    expect(conditionOf(deal, 'TopicReady')?.status).toBe('False');
    expect(conditionOf(deal, 'Ready')).toMatchObject({ status: 'False', reason: 'TopicNotCreated' });
    expect(await admin.listTopics()).not.toContain(`${topicPrefix}${name}`);
  });
});
