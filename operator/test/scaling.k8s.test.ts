/**
 * Scaling the admission consumers from a real Prometheus that scrapes a real admission consumer
 * process: replicas of the admission Deployment follow the waiting tickets up and back down, and
 * hold, with a condition saying why, while Prometheus is down. This file runs its own Prometheus
 * (Debian's binary, on a free port) so stopping it disturbs no other test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { endpoints } from '@quickdeal/dev/profiles';
import { installPrometheus } from '@quickdeal/dev/stack';
import {
  eventually,
  freePort,
  metricValue,
  nodeEntry,
  startProcess,
  startWaitingRoom,
  uniqueName,
  waitForHttp,
  type WaitingRoom,
} from '@quickdeal/dev/testing';
import {
  conditionOf,
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  isReady,
  patchSpec,
  quickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';
import type { Operator } from '@quickdeal/operator';

const cluster = inject('kubernetes');
const admissionDeployment = 'quickdeal-admission';
let api: Clients;
let namespace: string;
let room: WaitingRoom;
let operator: Operator;
let admission: ReturnType<typeof startProcess>;
let admissionUrl: string;
let prometheus: ReturnType<typeof startProcess> | undefined;
let prometheusArgs: { command: string; args: string[] };
let prometheusUrl: string;
let workDir: string;

async function startPrometheus() {
  prometheus = startProcess(prometheusArgs.command, prometheusArgs.args, {});
  await waitForHttp(`${prometheusUrl}/-/ready`, 'Prometheus to be ready', () => prometheus?.child.exitCode === null, 20_000);
}

async function stopPrometheus() {
  if (!prometheus || prometheus.child.exitCode !== null) return;
  prometheus.child.kill('SIGTERM');
  await prometheus.exited;
}

const replicas = async () => (await api.apps.readNamespacedDeploymentScale({ name: admissionDeployment, namespace })).spec?.replicas;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-scaling'));
  const labels = { app: 'quickdeal-admission' };
  await api.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: admissionDeployment },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'admission', image: 'ghcr.io/quickdeal/admission:test' }] } },
      },
    },
  });

  room = await startWaitingRoom({ startAdmission: false }); // the admission consumer is the real process below
  const admissionPort = await freePort();
  admissionUrl = `http://127.0.0.1:${admissionPort}`;
  const [node, args] = nodeEntry('services/admission/src/main.ts');
  admission = startProcess(node, args, {
    PORT: String(admissionPort),
    HOST: '127.0.0.1',
    REDIS_URL: endpoints('test').redisUrl,
    KAFKA_BROKERS: endpoints('test').kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: room.topicPrefix,
    ADMISSION_GROUP_ID: `${room.groupId}-process`,
    TOPIC_REFRESH_MS: '500',
    ADMISSION_BACKOFF_MS: '200',
    LOG_LEVEL: 'warn',
  });

  workDir = mkdtempSync(join(tmpdir(), 'qd-prometheus-'));
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(workDir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: admission\n    static_configs: [{ targets: ["127.0.0.1:${admissionPort}"] }]\n`,
  );
  prometheusArgs = {
    command: await installPrometheus(),
    args: [
      `--config.file=${join(workDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(workDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
  };
  await Promise.all([
    startPrometheus(),
    waitForHttp(`${admissionUrl}/readyz`, 'the admission consumer to be ready', () => admission.child.exitCode === null),
  ]).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${admission.output()}`);
  });

  ({ operator } = await startOperator(cluster, room.registry, namespace, {
    scaling: {
      prometheusUrl,
      queryTimeoutMs: 1_000,
      namespace,
      deployment: admissionDeployment,
      intervalMs: 500,
      minReplicas: 1,
      maxReplicas: 5,
      targetPerReplica: 5,
      activationThreshold: 0,
      scaleDownStabilizationMs: 3_000,
    },
  }));
}, 120_000);

afterAll(async () => {
  await deleteQuickDeals(api, namespace); // while the operator runs, so its finalizer cleans Redis up
  await operator?.stop();
  await stopPrometheus();
  admission?.child.kill('SIGTERM');
  await admission?.exited;
  await room?.close();
  if (namespace) await deleteNamespace(api, namespace);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('scaling the admission consumers', () => {
  it('follows the waiting tickets up and back down, and holds while Prometheus is down', async () => {
    // Three deals, each letting one shopper into checkout at a time: five of six wait in each line.
    const deals = [uniqueName('scale-a'), uniqueName('scale-b'), uniqueName('scale-c')];
    for (const name of deals) await createQuickDeal(api, namespace, quickDeal(name, { stock: 50, admission: { maxActiveShoppers: 1 } }));
    for (const name of deals) await waitForDeal(api, namespace, name, 'Ready', isReady);
    for (const name of deals) {
      for (let i = 0; i < 6; i++) expect((await room.takeTicket(name, `shopper-${i}`)).status).toBe(201);
    }

    // 15 waiting tickets, 5 per replica: 3 replicas, one per deal with a line (never more than that)
    await eventually('3 admission replicas', async () => ((await replicas()) === 3 ? true : undefined), 30_000);
    const scaled = await waitForDeal(
      api,
      namespace,
      deals[0]!,
      'ConsumersScaled',
      (d) => conditionOf(d, 'ConsumersScaled')?.message.includes('runs 3 admission replicas') ?? false,
    );
    expect(conditionOf(scaled, 'ConsumersScaled')).toMatchObject({ status: 'True', reason: 'Scaled' });
    const exported = await (await fetch(`${admissionUrl}/metrics`)).text();
    for (const name of deals) expect(metricValue(exported, 'quickdeal_queue_waiting', { deal: name })).toBe(5);

    // Prometheus goes away: the replicas stay, and every deal says why
    await stopPrometheus();
    for (const name of deals) {
      const held = await waitForDeal(
        api,
        namespace,
        name,
        'ConsumersScaled=False',
        (d) => conditionOf(d, 'ConsumersScaled')?.status === 'False',
        10_000,
      );
      expect(conditionOf(held, 'ConsumersScaled')).toMatchObject({
        reason: 'PrometheusUnavailable',
        message: expect.stringContaining('keeping 3 admission replicas'),
      });
      expect(conditionOf(held, 'ConsumersScaled')?.message).toContain(`Prometheus at ${prometheusUrl} cannot be reached`);
      expect(conditionOf(held, 'Ready')?.status).toBe('True'); // the deal itself still serves
    }
    // ... even though the lines empty meanwhile (a larger cap lets everyone in)
    for (const name of deals) await patchSpec(api, namespace, name, { admission: { maxActiveShoppers: 10 } });
    await eventually(
      'the lines to empty',
      async () => {
        const text = await (await fetch(`${admissionUrl}/metrics`)).text();
        return deals.every((name) => metricValue(text, 'quickdeal_queue_waiting', { deal: name }) === 0) ? true : undefined;
      },
      20_000,
    );
    await sleep(2_000); // four scaling intervals
    expect(await replicas()).toBe(3);

    // Prometheus is back: the empty lines scale the consumers down to the minimum
    await startPrometheus();
    await eventually('1 admission replica', async () => ((await replicas()) === 1 ? true : undefined), 30_000);
    const recovered = await waitForDeal(
      api,
      namespace,
      deals[0]!,
      'ConsumersScaled at 1 replica',
      (d) => conditionOf(d, 'ConsumersScaled')?.message.includes('runs 1 admission replica:') ?? false,
      10_000,
    );
    expect(conditionOf(recovered, 'ConsumersScaled')).toMatchObject({
      status: 'True',
      reason: 'Scaled',
      message: expect.stringContaining('0 deals with waiting tickets'),
    });
  }, 120_000);
});
