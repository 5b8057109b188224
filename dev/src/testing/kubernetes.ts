/**
 * What the Kubernetes tests (the operator's, the chart's) share: clients for the test API server,
 * the CRD, a namespace per test file, QuickDeal objects and an in-process operator wired to a
 * waiting room's deal registry.
 */
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { createLogger, type DealRegistry, type QuickDealSpecInput } from '@quickdeal/core';
import {
  Operator,
  apiVersion,
  createOperatorMetrics,
  crdName,
  group,
  kind,
  mergePatch,
  plural,
  version,
  type OperatorOptions,
  type QuickDeal,
  type QuickDealCondition,
} from '@quickdeal/operator';
import type { Kubernetes } from '../kubernetes.js';
import { repoRoot } from '../paths.js';
import { eventually } from './eventually.js';
import { kubectl } from './kubectl.js';
import { uniqueName } from './names.js';

export type { Kubernetes };
export type Cluster = Kubernetes;

export function clients(cluster: Cluster) {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    autoscaling: kc.makeApiClient(AutoscalingV2Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}
export type Clients = ReturnType<typeof clients>;

/** Installs (or updates) the committed CRD and waits until the API server serves QuickDeals. */
export async function installCrd(cluster: Cluster): Promise<void> {
  const apply = () => kubectl(cluster, ['apply', '-f', join(repoRoot, 'manifests', 'crd')]);
  let applied = await apply();
  // Test files start in parallel: when two create the CRD at once, the slower one applies again as an update.
  if (applied.code !== 0 && applied.stderr.includes('AlreadyExists')) applied = await apply();
  if (applied.code !== 0) throw new Error(`installing the CRD failed: ${applied.stderr}`);
  const established = await kubectl(cluster, ['wait', '--for=condition=Established', `crd/${crdName}`, '--timeout=30s']);
  if (established.code !== 0) throw new Error(`the CRD was not established: ${established.stderr}`);
}

/** What a Kubernetes test file starts with: clients, the CRD installed, and a namespace of its own. */
export async function setUpTestNamespace(cluster: Cluster, prefix: string): Promise<{ api: Clients; namespace: string }> {
  const api = clients(cluster);
  await installCrd(cluster);
  return { api, namespace: await createNamespace(api, prefix) };
}

export async function createNamespace(api: Clients, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await api.core.createNamespace({ body: { metadata: { name, labels: { 'quickdeal.io/test': 'operator' } } } });
  return name;
}

/** Deletes the namespace; QuickDeals left in it lose their finalizer first, so nothing hangs in Terminating. */
export async function deleteNamespace(api: Clients, namespace: string): Promise<void> {
  const deals = (await api.custom.listNamespacedCustomObject({ group, version, namespace, plural }).catch(() => ({ items: [] }))) as {
    items: QuickDeal[];
  };
  for (const deal of deals.items) {
    await api.custom
      .patchNamespacedCustomObject(
        { group, version, namespace, plural, name: deal.metadata.name, body: { metadata: { finalizers: null } } },
        mergePatch,
      )
      .catch(() => undefined);
  }
  await api.core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

/** Deletes every QuickDeal of the namespace and waits while the running operator's finalizer cleans up after each. */
export async function deleteQuickDeals(api: Clients, namespace: string, timeoutMs = 15_000): Promise<void> {
  const list = async () =>
    ((await api.custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: QuickDeal[] }).items;
  for (const deal of await list().catch(() => [])) {
    await api.custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: deal.metadata.name }).catch(() => undefined);
  }
  await eventually(
    `the QuickDeals of ${namespace} to be finalized`,
    async () => ((await list()).length === 0 ? true : undefined),
    timeoutMs,
  ).catch(() => undefined);
}

/** A QuickDeal object: a phone on sale since a minute ago unless the spec says otherwise. */
export function quickDeal(name: string, spec: Partial<QuickDealSpecInput> = {}) {
  return {
    apiVersion,
    kind,
    metadata: { name },
    spec: {
      product: { name: 'Test Phone 256GB', price: 1_550_000, currency: 'KRW' },
      stock: 10,
      opensAt: new Date(Date.now() - 60_000).toISOString(),
      ...spec,
    },
  };
}

export async function createQuickDeal(api: Clients, namespace: string, body: ReturnType<typeof quickDeal>): Promise<QuickDeal> {
  return (await api.custom.createNamespacedCustomObject({ group, version, namespace, plural, body })) as QuickDeal;
}

export async function readQuickDeal(api: Clients, namespace: string, name: string): Promise<QuickDeal> {
  return (await api.custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as QuickDeal;
}

/** A merge patch of the spec, as `kubectl edit` or `kubectl patch --type merge` would send it. */
export async function patchSpec(api: Clients, namespace: string, name: string, spec: Record<string, unknown>): Promise<QuickDeal> {
  return (await api.custom.patchNamespacedCustomObject(
    { group, version, namespace, plural, name, body: { spec } },
    mergePatch,
  )) as QuickDeal;
}

export function conditionOf(deal: QuickDeal, type: QuickDealCondition['type']): QuickDealCondition | undefined {
  return deal.status?.conditions?.find((condition) => condition.type === type);
}

/** Waits until the QuickDeal satisfies the check; returns it. */
export function waitForDeal(
  api: Clients,
  namespace: string,
  name: string,
  what: string,
  check: (deal: QuickDeal) => boolean,
  timeoutMs = 30_000,
): Promise<QuickDeal> {
  return eventually(
    `${namespace}/${name}: ${what}`,
    async () => {
      const deal = await readQuickDeal(api, namespace, name);
      return check(deal) ? deal : undefined;
    },
    timeoutMs,
  );
}

export const isReady = (deal: QuickDeal) =>
  conditionOf(deal, 'Ready')?.status === 'True' && deal.status?.observedGeneration === deal.metadata.generation;

export async function isGone(api: Clients, namespace: string, name: string): Promise<boolean> {
  try {
    await readQuickDeal(api, namespace, name);
    return false;
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return true;
    throw error;
  }
}

/** The reasons of the Events recorded on an object. */
export async function eventsOf(api: Clients, namespace: string, name: string) {
  const events = await api.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return events.items;
}

/** An operator in this process, watching one namespace, acting on the given deal registry (a waiting room's). */
export async function startOperator(cluster: Cluster, registry: DealRegistry, namespace: string, overrides: Partial<OperatorOptions> = {}) {
  const metrics = createOperatorMetrics();
  const operator = new Operator(
    { kubeConfig: clients(cluster).kc, registry, metrics, logger: createLogger('operator-test', process.env.TEST_LOG_LEVEL ?? 'silent') },
    {
      identity: uniqueName('test-operator'),
      controller: { namespace, resyncMs: 500, workers: 2, backoff: { baseDelayMs: 100, maxDelayMs: 2_000 } },
      ...overrides,
    },
  );
  await operator.start();
  return { operator, metrics };
}
