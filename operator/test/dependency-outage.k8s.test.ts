/**
 * The operator process started while Postgres and Kafka are out of reach (each behind a TCP gate the
 * test opens and closes), against the real API server: it stays up, takes the Lease, and its
 * deals say which server is missing (Ready=False, DependencyUnavailable) and its /readyz which check
 * fails; each deal recovers by itself when the server comes back, with one Event per outage and
 * one topic created, not one per retry.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import { eventually, freePort, nodeEntry, startProcess, startTcpGate, uniqueName, waitForHttp, type TcpGate } from '@quickdeal/dev/testing';
import {
  conditionOf,
  createQuickDeal,
  deleteNamespace,
  eventsOf,
  isReady,
  quickDeal,
  setUpTestNamespace,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const topicPrefix = `qdtest.${uniqueName('outage').replace(/-/g, '')}.`;
const stack = endpoints('test');
let api: Clients;
let namespace: string;
let postgres: TcpGate;
let kafka: TcpGate;
let operator: ReturnType<typeof startProcess> | undefined;

const hostPort = (address: string) => {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  return { host, port: Number(port) };
};

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-outage'));
  postgres = await startTcpGate({ host: '127.0.0.1', port: Number(new URL(stack.postgresUrl).port) }, { open: false });
  kafka = await startTcpGate(hostPort(stack.kafkaBrokers[0]!), { open: false });
});

afterAll(async () => {
  if (operator && operator.child.exitCode === null) operator.child.kill('SIGKILL');
  await operator?.exited;
  await Promise.all([postgres?.stop(), kafka?.stop()]);
  if (namespace) await deleteNamespace(api, namespace);
  const admin = createKafka({ brokers: stack.kafkaBrokers, clientId: 'outage-test-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
});

async function readiness(url: string) {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as { checks: Record<string, boolean> } };
}

describe('an operator started while Postgres and Kafka are down', () => {
  it('starts, leads, reports DependencyUnavailable on its deals and recovers by itself', async () => {
    const name = uniqueName('outage');
    await createQuickDeal(api, namespace, quickDeal(name, { stock: 3 }));
    const leaseName = uniqueName('outage-lease');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const [node, args] = nodeEntry('operator/src/main.ts');
    operator = startProcess(node, args, {
      KUBECONFIG: cluster.kubeconfig,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: stack.redisUrl,
      DATABASE_URL: `postgres://quickdeal:quickdeal@127.0.0.1:${postgres.port}/quickdeal`,
      KAFKA_BROKERS: `127.0.0.1:${kafka.port}`,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      POD_NAME: 'outage-operator',
      POD_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      LEASE_NAME: leaseName,
      RESYNC_SECONDS: '1',
      LOG_LEVEL: 'warn',
    });
    const running = () => operator?.child.exitCode === null;

    // alive and leading, though neither Postgres nor Kafka answers
    await waitForHttp(`${url}/healthz`, 'the operator to serve /healthz', running, 120_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${operator?.output()}`);
    });
    await eventually(
      'the operator to take the Lease',
      async () =>
        (await api.coordination.readNamespacedLease({ name: leaseName, namespace }).catch(() => undefined))?.spec?.holderIdentity ===
        'outage-operator'
          ? true
          : undefined,
      20_000,
    );
    const notReady = await readiness(url);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks).toEqual({ redis: true, postgres: false, schema: false, kafka: false });

    const postgresDown = await waitForDeal(
      api,
      namespace,
      name,
      'Ready=False for Postgres',
      (deal) => conditionOf(deal, 'Ready')?.reason === 'DependencyUnavailable',
    );
    expect(conditionOf(postgresDown, 'Ready')).toMatchObject({
      status: 'False',
      message: expect.stringMatching(/^Postgres is unreachable/),
    });
    expect(conditionOf(postgresDown, 'ConfigSynced')).toMatchObject({ status: 'False', reason: 'PostgresUnavailable' });
    expect(running(), operator.output()).toBe(true);

    // Postgres back: the deal is applied, and now waits for Kafka
    postgres.open();
    const kafkaDown = await waitForDeal(api, namespace, name, 'TopicReady=False for Kafka', (deal) =>
      Boolean(conditionOf(deal, 'TopicReady')?.reason === 'KafkaUnavailable' && conditionOf(deal, 'Ready')?.message?.startsWith('Kafka')),
    );
    expect(conditionOf(kafkaDown, 'Ready')).toMatchObject({ status: 'False', reason: 'DependencyUnavailable' });
    expect((await readiness(url)).body.checks).toEqual({ redis: true, postgres: true, schema: true, kafka: false });

    // Kafka back: the deal serves, and the operator is ready
    kafka.open();
    const ready = await waitForDeal(api, namespace, name, 'Ready', isReady);
    expect(ready.status).toMatchObject({ phase: 'Open', topic: `${topicPrefix}${name}`, remaining: 3 });
    await eventually('/readyz to answer 200', async () => ((await readiness(url)).status === 200 ? true : undefined), 15_000);
    expect(running(), operator.output()).toBe(true);

    // one Event per outage and one topic created, however many retries there were
    const reasons = (await eventsOf(api, namespace, name)).map((event) => [event.reason, event.count ?? 1]);
    expect(reasons.filter(([reason]) => reason === 'PostgresUnavailable')).toHaveLength(1);
    expect(reasons.filter(([reason]) => reason === 'KafkaUnavailable')).toHaveLength(1);
    expect(reasons.filter(([reason]) => reason === 'TopicCreated')).toEqual([['TopicCreated', 1]]);
  }, 240_000);
});
