/**
 * Ticketing scaled ahead of an opening, against the real API server and its controller manager:
 * the operator raises the minReplicas of ticketing's HorizontalPodAutoscaler a lead time before a
 * deal opens, the HPA controller (not the operator) scales the Deployment up to it, and after the
 * rush the operator gives the HPA its own minimum back.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { baselineAnnotation, type Operator } from '@quickdeal/operator';
import { eventually, startWaitingRoom, uniqueName, type WaitingRoom } from '@quickdeal/dev/testing';
import {
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  quickDeal,
  setUpTestNamespace,
  startOperator,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const ticketing = 'quickdeal-ticketing';
const leadMs = 4_000;
const holdMs = 4_000;
let api: Clients;
let namespace: string;
let room: WaitingRoom;
let operator: Operator | undefined;

const hpa = () => api.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: ticketing, namespace });
const deploymentReplicas = async () => (await api.apps.readNamespacedDeploymentScale({ name: ticketing, namespace })).spec?.replicas;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-rush'));
  const labels = { app: ticketing };
  await api.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: ticketing },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [{ name: 'ticketing', image: 'ghcr.io/quickdeal/ticketing:test', resources: { requests: { cpu: '250m' } } }],
          },
        },
      },
    },
  });
  // As the chart makes it: CPU-driven, 2 to 6 replicas.
  await api.autoscaling.createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name: ticketing },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: ticketing },
        minReplicas: 2,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
  });
  room = await startWaitingRoom({ startAdmission: false });
  ({ operator } = await startOperator(cluster, room.registry, namespace, {
    ticketingRush: { namespace, hpa: ticketing, intervalMs: 1_000, minReplicas: 4, leadMs, holdMs },
  }));
}, 120_000);

afterAll(async () => {
  if (namespace) await deleteQuickDeals(api, namespace);
  await operator?.stop();
  await room?.close();
  if (namespace) await deleteNamespace(api, namespace);
});

describe('ticketing ahead of an opening', () => {
  it('raises the HPA’s minimum a lead time before opensAt, lets the HPA scale, and gives the minimum back after the rush', async () => {
    const opensAt = Date.now() + 10_000;
    const name = uniqueName('rush');
    await createQuickDeal(api, namespace, quickDeal(name, { opensAt: new Date(opensAt).toISOString() }));
    await waitForDeal(api, namespace, name, 'Scheduled', (d) => d.status?.phase === 'Scheduled');
    expect((await hpa()).spec?.minReplicas).toBe(2); // too early

    const raised = await eventually(
      'the HPA minimum raised',
      async () => ((await hpa()).spec?.minReplicas === 4 ? Date.now() : undefined),
      15_000,
      100,
    );
    expect(raised).toBeGreaterThanOrEqual(opensAt - leadMs);
    expect(raised).toBeLessThan(opensAt);
    expect((await hpa()).metadata?.annotations?.[baselineAnnotation]).toBe('2');

    // The HPA controller scales the Deployment to its new minimum (it syncs every 15 s); the operator never writes it.
    await eventually('the HPA to scale ticketing to 4', async () => ((await deploymentReplicas()) === 4 ? true : undefined), 40_000, 500);
    const deployment = await api.apps.readNamespacedDeployment({ name: ticketing, namespace });
    expect(deployment.metadata?.managedFields?.map((entry) => entry.manager)).not.toContain('quickdeal-operator');
    expect((await hpa()).metadata?.managedFields?.map((entry) => entry.manager)).toContain('quickdeal-operator');

    // After the hold the minimum is the HPA's own again; the HPA scales down at its own pace
    await eventually('the HPA minimum given back', async () => ((await hpa()).spec?.minReplicas === 2 ? true : undefined), 20_000, 200);
    expect(Date.now()).toBeGreaterThanOrEqual(opensAt + holdMs);
    expect((await hpa()).metadata?.annotations?.[baselineAnnotation]).toBeUndefined();
    expect((await hpa()).spec?.maxReplicas).toBe(6);
  }, 90_000);
});
