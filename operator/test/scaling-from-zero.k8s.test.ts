/**
 * Scaling from zero, against the real API server and a real Prometheus: the admission Deployment
 * runs no replica and no admission process exists, so the only thing Prometheus scrapes is a real
 * ticketing process. Shoppers who wait must wake the consumers (one per deal with a line, never
 * more: one partition each), and once the lines are empty and the stabilisation window has passed
 * they go back to zero. The chart's optional KEDA ScaledObject asks the same Prometheus its query,
 * and KEDA's rule on the answer must come to the same replicas.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TicketKeyring } from '@quickdeal/core';
import { endpoints } from '@quickdeal/dev/profiles';
import {
  eventually,
  freePort,
  metricValue,
  nodeEntry,
  startProcess,
  startPrometheus,
  startWaitingRoom,
  uniqueName,
  waitForHttp,
  type PrometheusInstance,
  type WaitingRoom,
} from '@quickdeal/dev/testing';
import {
  conditionOf,
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  isReady,
  quickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';
import type { Operator } from '@quickdeal/operator';
import { one, render } from '../../charts/quickdeal/test/support/chart.js';

const cluster = inject('kubernetes');
const admissionDeployment = 'quickdeal-admission';
const targetPerReplica = 2;
const [first, second] = [uniqueName('zero-a'), uniqueName('zero-b')];
let api: Clients;
let namespace: string;
let room: WaitingRoom;
let operator: Operator | undefined;
let ticketing: ReturnType<typeof startProcess> | undefined;
let ticketingUrl: string;
let prometheus: PrometheusInstance | undefined;
let keda: { query: string; threshold: number; activation: number; min: number; max: number };

/** What KEDA would run: nothing at or below the activation threshold, else ceil(value / threshold) within its bounds. */
async function kedaReplicas(): Promise<number> {
  const [sample] = (await prometheus?.query(keda.query)) ?? [];
  const value = Number(sample?.value[1] ?? 0);
  return value > keda.activation ? Math.min(keda.max, Math.max(1, keda.min, Math.ceil(value / keda.threshold))) : keda.min;
}

// A scale of zero replicas comes back without the field (omitempty).
const replicas = async () => (await api.apps.readNamespacedDeploymentScale({ name: admissionDeployment, namespace })).spec?.replicas ?? 0;

async function takeTicket(deal: string, shopper: string): Promise<number> {
  const response = await fetch(`${ticketingUrl}/api/v1/deals/${deal}/tickets`, {
    method: 'POST',
    headers: { 'X-User-Id': shopper },
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status;
}

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-zero'));
  const labels = { app: 'quickdeal-admission' };
  await api.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: admissionDeployment },
      spec: {
        replicas: 0,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'admission', image: 'ghcr.io/quickdeal/admission:test' }] } },
      },
    },
  });

  room = await startWaitingRoom({ startAdmission: false }); // no admission consumer until the test drains the lines
  const port = await freePort();
  ticketingUrl = `http://127.0.0.1:${port}`;
  const [node, args] = nodeEntry('services/ticketing/src/main.ts');
  ticketing = startProcess(node, args, {
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: endpoints('test').redisUrl,
    KAFKA_BROKERS: endpoints('test').kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: room.topicPrefix,
    TICKET_SIGNING_KEY: JSON.stringify(await TicketKeyring.generateSigningJwk()),
    SHOPPER_IDENTITY: 'header',
    DEAL_REFRESH_MS: '100',
    TICKETS_PER_SHOPPER_PER_MINUTE: '1000',
    LOG_LEVEL: 'warn',
  });
  const alive = () => ticketing?.child.exitCode === null;
  const [prometheusPort] = await Promise.all([
    freePort(),
    waitForHttp(`${ticketingUrl}/readyz`, 'the ticketing process to be ready', alive).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${ticketing?.output() ?? ''}`);
    }),
  ]);
  prometheus = await startPrometheus([{ job: 'ticketing', targets: [`127.0.0.1:${port}`] }], { port: prometheusPort });

  // The chart's ScaledObject with this test's policy, picking this test's series (ticketing exports every deal in Redis)
  const chart = await render(cluster, {
    valuesFile: 'keda-values.yaml',
    set: [
      'operator.scaling.minReplicas=0',
      'operator.scaling.maxReplicas=5',
      `operator.scaling.targetWaitingPerReplica=${targetPerReplica}`,
    ],
    setJson: [`operator.prometheusSelector=${JSON.stringify(`job="ticketing", deal=~"${first}|${second}"`)}`],
  });
  if (chart.error) throw new Error(chart.error);
  const scaledObject = one(chart.objects, 'ScaledObject').spec;
  const trigger = scaledObject.triggers[0].metadata;
  keda = {
    query: trigger.query,
    threshold: Number(trigger.threshold),
    activation: Number(trigger.activationThreshold),
    min: scaledObject.minReplicaCount,
    max: scaledObject.maxReplicaCount,
  };

  ({ operator } = await startOperator(cluster, room.registry, namespace, {
    scaling: {
      prometheusUrl: prometheus.url,
      queryTimeoutMs: 1_000,
      namespace,
      deployment: admissionDeployment,
      intervalMs: 500,
      minReplicas: 0,
      maxReplicas: 5,
      targetPerReplica,
      activationThreshold: 0,
      scaleDownStabilizationMs: 3_000,
    },
  }));
}, 120_000);

afterAll(async () => {
  if (namespace) await deleteQuickDeals(api, namespace); // while the operator runs, so its finalizer cleans Redis up
  await operator?.stop();
  await prometheus?.stop();
  ticketing?.child.kill('SIGTERM');
  await ticketing?.exited;
  await room?.close();
  if (namespace) await deleteNamespace(api, namespace);
});

describe('admission consumers at zero replicas', () => {
  it('wake when shoppers wait, one per deal with a line, and go back to zero when the lines are empty', async () => {
    for (const name of [first, second]) await createQuickDeal(api, namespace, quickDeal(name, { stock: 50 }));
    for (const name of [first, second]) await waitForDeal(api, namespace, name, 'Ready', isReady);

    // No line, no consumer: the scaler looked and kept zero
    await waitForDeal(
      api,
      namespace,
      first,
      'ConsumersScaled at 0 replicas',
      (d) => conditionOf(d, 'ConsumersScaled')?.message.includes('runs 0 admission replicas: 0 deals with waiting tickets') ?? false,
    );
    expect(await replicas()).toBe(0);

    // Three shoppers wait on the first deal, and no admission pod exists to export the line
    for (let i = 0; i < 3; i++) expect(await takeTicket(first, `early-${i}`)).toBe(201);
    // ceil(3 / 2) = 2 wanted, but one deal has a line: one consumer
    await eventually('the admission consumers to wake', async () => ((await replicas()) === 1 ? true : undefined), 20_000);
    const exported = await (await fetch(`${ticketingUrl}/metrics`)).text();
    expect(metricValue(exported, 'quickdeal_queue_waiting', { deal: first })).toBe(3);
    await eventually('KEDA’s query to ask for one consumer', async () => ((await kedaReplicas()) === 1 ? true : undefined), 10_000);

    // Both deals have lines, 16 tickets in all: ceil(16 / 2) = 8, held to the two partitions with work
    for (let i = 0; i < 10; i++) expect(await takeTicket(first, `more-${i}`)).toBe(201);
    for (let i = 0; i < 3; i++) expect(await takeTicket(second, `other-${i}`)).toBe(201);
    await eventually('two admission consumers', async () => ((await replicas()) === 2 ? true : undefined), 20_000);
    await sleep(2_000); // four scaling intervals: still two, never the 5 of maxReplicas
    expect(await replicas()).toBe(2);
    const scaled = await waitForDeal(api, namespace, second, 'ConsumersScaled at 2', (d) =>
      Boolean(conditionOf(d, 'ConsumersScaled')?.message.includes('runs 2 admission replicas: 2 deals with waiting tickets')),
    );
    expect(conditionOf(scaled, 'ConsumersScaled')).toMatchObject({ status: 'True', reason: 'Scaled' });
    await eventually('KEDA’s query to ask for two consumers', async () => ((await kedaReplicas()) === 2 ? true : undefined), 10_000);

    // A consumer works the lines off (the default cap admits everyone): back to zero after the window
    await room.startAdmission();
    await eventually(
      'the lines to empty',
      async () => {
        const text = await (await fetch(`${ticketingUrl}/metrics`)).text();
        return [first, second].every((name) => metricValue(text, 'quickdeal_queue_waiting', { deal: name }) === 0) ? true : undefined;
      },
      30_000,
    );
    await eventually('KEDA’s query to let the consumers go', async () => ((await kedaReplicas()) === 0 ? true : undefined), 10_000);
    await eventually('zero admission consumers', async () => ((await replicas()) === 0 ? true : undefined), 30_000);
  }, 150_000);
});
