/**
 * The test control plane is a real Kubernetes: workloads run (on kwok's fake node), the API server
 * enforces a CRD's structural schema, server-side dry-run apply works, and helm is there.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubectl, run } from '../src/testing/kubectl.js';

const namespace = `k8s-test-${randomBytes(3).toString('hex')}`;
const group = 'test.quickdeal.io';
const crdName = `gadgets.${group}`;

const cluster = inject('kubernetes'); // started by dev/test-setup/kubernetes.ts
let core: CoreV1Api;
let apps: AppsV1Api;
let extensions: ApiextensionsV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  extensions = kc.makeApiClient(ApiextensionsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  await extensions?.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
});

describe('the test Kubernetes control plane', () => {
  it('runs a Deployment: 2 replicas become 2 Running pods', async () => {
    const labels = { app: 'hello' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'hello', image: 'registry.invalid/hello:1' }] }, // kwok pulls nothing
          },
        },
      },
    });
    const running = await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=hello' });
      const names = pods.items.filter((pod) => pod.status?.phase === 'Running').map((pod) => pod.metadata?.name);
      return names.length === 2 ? names : undefined;
    });
    expect(running).toHaveLength(2);
    const deployment = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'hello', namespace });
      return d.status?.readyReplicas === 2 ? d : undefined;
    });
    expect(deployment.status?.availableReplicas).toBe(2);
  }, 60_000);

  it('refuses an object its CRD schema rejects, with the schema message', async () => {
    await extensions.createCustomResourceDefinition({ body: gadgetCrd() });
    await eventually(async () => {
      const crd = await extensions.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
    });
    const create = (spec: object) =>
      eventually(() =>
        custom
          .createNamespacedCustomObject({
            group,
            version: 'v1',
            namespace,
            plural: 'gadgets',
            body: { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: `g-${randomBytes(3).toString('hex')}` }, spec },
          })
          .catch((error: unknown) => {
            if (error instanceof ApiException && error.code === 404) return undefined; // served a moment after Established
            throw error;
          }),
      );

    await expect(create({ size: 3, min: 1, max: 2 })).resolves.toMatchObject({ spec: { size: 3 } });

    const refused = await create({ size: 0, min: 5, max: 2 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiException);
    const { code, body } = refused as ApiException<string>;
    expect(code).toBe(422);
    const status = JSON.parse(body) as { reason: string; message: string };
    expect(status.reason).toBe('Invalid');
    expect(status.message).toContain('spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1');
    expect(status.message).toContain('max must not be below min');
  }, 60_000);

  it('applies server-side with a server dry run, creating nothing', async () => {
    const configMap = `apiVersion: v1
kind: ConfigMap
metadata: { name: dry, namespace: ${namespace} }
data: { key: value }
`;
    const applied = await kubectl(cluster, ['apply', '--server-side', '--dry-run=server', '-f', '-'], configMap);
    expect(applied).toMatchObject({ code: 0, stdout: 'configmap/dry serverside-applied (server dry run)\n' });
    await expect(core.readNamespacedConfigMap({ name: 'dry', namespace })).rejects.toMatchObject({ code: 404 });

    const invalid = await kubectl(
      cluster,
      ['apply', '--server-side', '--dry-run=server', '-f', '-'],
      `apiVersion: v1
kind: ConfigMap
metadata: { name: Not_A_Name, namespace: ${namespace} }
`,
    );
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain('Not_A_Name');
  }, 30_000);

  it('has helm', async () => {
    const helm = await run(join(cluster.binDir, 'helm'), ['version', '--short']);
    expect(helm).toMatchObject({ code: 0, stdout: expect.stringMatching(/^v3\.\d+\.\d+/) });
  });
});

function gadgetCrd(): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName },
    spec: {
      group,
      names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['size'],
                  properties: {
                    size: { type: 'integer', minimum: 1 },
                    min: { type: 'integer' },
                    max: { type: 'integer' },
                  },
                  x_kubernetes_validations: [{ rule: 'self.max >= self.min', message: 'max must not be below min' }],
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** Polls until the check returns something other than undefined (every 200 ms, for up to 30 s). */
async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`still not there after ${timeoutMs} ms`);
    await sleep(200);
  }
}
