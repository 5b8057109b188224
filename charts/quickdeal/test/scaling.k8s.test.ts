/**
 * Who scales what in the chart: the operator scales the admission consumers from Prometheus unless
 * KEDA's ScaledObject does (never both, and never when the Deployment keeps a fixed count), and it
 * raises ticketing's HPA ahead of openings with a permission on that one HPA. The ScaledObject is
 * created on the test API server under KEDA's own CRD (from KEDA's Go module); no KEDA operator
 * runs there, so what KEDA would do with it is shown in operator/test/scaling-from-zero.k8s.test.ts,
 * which asks a real Prometheus the ScaledObject's query.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectl } from '@quickdeal/dev/testing';
import { deleteNamespace, setUpTestNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';
import { find, installKedaCrds, one, render, type K8sObject } from './support/chart.js';

const cluster = inject('kubernetes');
let api: Clients;
let namespace: string;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-chart-scaling'));
  await installKedaCrds(cluster);
}, 120_000);

afterAll(async () => {
  if (namespace) await deleteNamespace(api, namespace);
});

const component = (objects: K8sObject[], kind: string, name: string) =>
  find(objects, kind).find((object) => object.metadata.labels?.['app.kubernetes.io/component'] === name);

function operatorEnv(objects: K8sObject[]): Record<string, string | undefined> {
  const env = component(objects, 'Deployment', 'operator')?.spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>;
  return Object.fromEntries(env.map((variable) => [variable.name, variable.value]));
}

async function rendered(options: Parameters<typeof render>[1]): Promise<K8sObject[]> {
  const result = await render(cluster, { release: 'qd', namespace: 'shop', ...options });
  if (result.error) throw new Error(`helm template failed: ${result.error}`);
  return result.objects;
}

const prometheus = 'operator.prometheusUrl=http://prometheus-operated.monitoring:9090';

describe('scaling in the chart', () => {
  it('lets the operator scale admission from Prometheus and raise ticketing’s HPA ahead of openings, by default', async () => {
    const objects = await rendered({ valuesFile: 'default-values.yaml', set: [prometheus] });
    expect(operatorEnv(objects)).toMatchObject({
      SCALE_ADMISSION: 'true',
      TICKETING_HPA: 'qd-quickdeal-ticketing',
      TICKETING_RUSH_MIN_REPLICAS: '6',
      TICKETING_RUSH_LEAD_SECONDS: '300',
      TICKETING_RUSH_HOLD_SECONDS: '900',
    });
    expect(one(objects, 'HorizontalPodAutoscaler', 'qd-quickdeal-ticketing').spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(one(objects, 'Role').rules).toContainEqual({
      apiGroups: ['autoscaling'],
      resources: ['horizontalpodautoscalers'],
      resourceNames: ['qd-quickdeal-ticketing'],
      verbs: ['get', 'patch'],
    });
    expect(find(objects, 'ScaledObject')).toEqual([]);
    expect(component(objects, 'Deployment', 'admission')?.spec.replicas).toBeUndefined();
  });

  it('keeps the operator off the admission replicas when the Deployment holds a fixed count', async () => {
    for (const set of [[], [prometheus, 'admission.scaledByOperator=false']]) {
      const objects = await rendered({ valuesFile: 'default-values.yaml', set });
      expect(operatorEnv(objects).SCALE_ADMISSION, set.join(' ')).toBe('false');
      expect(component(objects, 'Deployment', 'admission')?.spec.replicas, set.join(' ')).toBe(1);
    }
  });

  it('leaves ticketing’s HPA alone, and asks no permission on it, when there is no HPA or no rush minimum', async () => {
    for (const set of [['ticketing.autoscaling.enabled=false'], ['ticketing.rush.minReplicas=0']]) {
      const objects = await rendered({ valuesFile: 'default-values.yaml', set });
      expect(operatorEnv(objects).TICKETING_HPA, set[0]).toBeUndefined();
      expect(JSON.stringify(one(objects, 'Role').rules), set[0]).not.toContain('horizontalpodautoscalers');
    }
  });

  it('hands admission to KEDA when asked: a ScaledObject on the operator’s series and policy, and the operator keeps off', async () => {
    const objects = await rendered({ valuesFile: 'keda-values.yaml' });
    const scaledObject = one(objects, 'ScaledObject', 'qd-quickdeal-admission');
    expect(scaledObject.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'qd-quickdeal-admission' },
      minReplicaCount: 0,
      maxReplicaCount: 8,
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 120 } } } },
      triggers: [
        {
          type: 'prometheus',
          metadata: { serverAddress: 'http://prometheus-operated.monitoring:9090', threshold: '500', activationThreshold: '0' },
        },
      ],
    });
    const query = scaledObject.spec.triggers[0].metadata.query as string;
    expect(query).toContain('{__name__=~"quickdeal_queue_waiting|quickdeal_consumer_lag_messages", namespace="shop"}');
    expect(query).toContain('* 500)'); // one target per deal with work: never more consumers than partitions
    expect(operatorEnv(objects)).toMatchObject({
      SCALE_ADMISSION: 'false',
      TICKETING_RUSH_MIN_REPLICAS: '8',
      TICKETING_RUSH_LEAD_SECONDS: '600',
    });
    expect(component(objects, 'Deployment', 'admission')?.spec.replicas).toBeUndefined();

    // KEDA's own CRD accepts it (strict field validation), and it reads back as rendered
    const { yaml } = await render(cluster, { release: 'qd', namespace, valuesFile: 'keda-values.yaml' });
    const scaledObjectYaml = yaml.split(/^---$/m).find((document) => /^kind: ScaledObject$/m.test(document));
    const applied = await kubectl(
      cluster,
      ['apply', '--server-side', '--field-manager=helm', '--validate=strict', '-n', namespace, '-f', '-'],
      scaledObjectYaml,
    );
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('scaledobject.keda.sh/qd-quickdeal-admission serverside-applied');
    const stored = await api.custom.getNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace,
      plural: 'scaledobjects',
      name: 'qd-quickdeal-admission',
    });
    expect((stored as { spec: { triggers: Array<{ metadata: { query: string } }> } }).spec.triggers[0]?.metadata.query).toContain(
      `namespace="${namespace}"`,
    );
  });

  it('refuses KEDA without a Prometheus to ask', async () => {
    const { error } = await render(cluster, { valuesFile: 'default-values.yaml', set: ['admission.keda.enabled=true'] });
    expect(error).toContain(
      'admission.keda.enabled needs the Prometheus KEDA queries: admission.keda.serverAddress or operator.prometheusUrl',
    );
  });
});
