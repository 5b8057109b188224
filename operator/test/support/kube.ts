/**
 * What the operator's Kubernetes tests share: clients for the test API server, kubectl, the CRD,
 * a namespace per test file, QuickDeal objects and an in-process operator wired to a waiting room.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
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
import type { Kubernetes } from '../../../dev/src/kubernetes.js';
import { kubectl } from '../../../dev/src/testing/kubectl.js';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');

export type Cluster = Kubernetes;

export function clients(cluster: Cluster) {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}
export type Clients = ReturnType<typeof clients>;

export { kubectl, run } from '../../../dev/src/testing/kubectl.js';

/** Installs (or updates) the committed CRD and waits until the API server serves QuickDeals. */
export async function installCrd(cluster: Cluster): Promise<void> {
  const applied = await kubectl(cluster, ['apply', '-f', join(repoRoot, 'manifests', 'crd')]);
  if (applied.code !== 0) throw new Error(`installing the CRD failed: ${applied.stderr}`);
  const established = await kubectl(cluster, ['wait', '--for=condition=Established', `crd/${crdName}`, '--timeout=30s']);
  if (established.code !== 0) throw new Error(`the CRD was not established: ${established.stderr}`);
}

/** Polls until the check returns something other than undefined. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not there after ${timeoutMs} ms${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export async function createNamespace(api: Clients, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await api.core.createNamespace({ body: { metadata: { name, labels: { 'quickdeal.io/test': 'operator' } } } });
  return name;
}

/** Deletes the namespace; QuickDeals left in it lose their finalizer first, so nothing hangs in Terminating. */
export async function deleteNamespace(api: Clients, namespace: string): Promise<void> {
  const deals = (await api.custom.listNamespacedCustomObject({ group, version, namespace, plural }).catch(() => ({ items: [] }))) as { items: QuickDeal[] };
  for (const deal of deals.items) {
    await api.custom
      .patchNamespacedCustomObject({ group, version, namespace, plural, name: deal.metadata.name, body: { metadata: { finalizers: null } } }, mergePatch)
      .catch(() => undefined);
  }
  await api.core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

/** Deletes every QuickDeal of the namespace and waits while the running operator's finalizer cleans up after each. */
export async function deleteQuickDeals(api: Clients, namespace: string, timeoutMs = 15_000): Promise<void> {
  const list = async () => ((await api.custom.listNamespacedCustomObject({ group, version, namespace, plural })) as { items: QuickDeal[] }).items;
  for (const deal of await list().catch(() => [])) {
    await api.custom.deleteNamespacedCustomObject({ group, version, namespace, plural, name: deal.metadata.name }).catch(() => undefined);
  }
  await eventually(`the QuickDeals of ${namespace} to be finalized`, async () => ((await list()).length === 0 ? true : undefined), timeoutMs).catch(() => undefined);
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
  return (await api.custom.patchNamespacedCustomObject({ group, version, namespace, plural, name, body: { spec } }, mergePatch)) as QuickDeal;
}

export function conditionOf(deal: QuickDeal, type: QuickDealCondition['type']): QuickDealCondition | undefined {
  return deal.status?.conditions?.find((condition) => condition.type === type);
}

/** Waits until the QuickDeal satisfies the check; returns it. */
export function waitForDeal(api: Clients, namespace: string, name: string, what: string, check: (deal: QuickDeal) => boolean, timeoutMs = 30_000): Promise<QuickDeal> {
  return eventually(`${namespace}/${name}: ${what}`, async () => {
    const deal = await readQuickDeal(api, namespace, name);
    return check(deal) ? deal : undefined;
  }, timeoutMs);
}

export const isReady = (deal: QuickDeal) => conditionOf(deal, 'Ready')?.status === 'True' && deal.status?.observedGeneration === deal.metadata.generation;

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

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts a process with its output kept (printed when a test fails to start it). */
export function startProcess(command: string, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return { child, output: () => output, exited };
}

/** A TypeScript entry point of the repo, run as the services run in development. */
export function nodeEntry(entry: string): [string, string[]] {
  return [process.execPath, ['--conditions=quickdeal-source', '--import', 'tsx', join(repoRoot, entry)]];
}

/** Waits until an HTTP endpoint answers 200. */
export function waitForHttp(url: string, what: string, alive: () => boolean = () => true, timeoutMs = 60_000): Promise<true> {
  return eventually(what, async () => {
    if (!alive()) throw new Error(`${what}: the process exited`);
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    return response?.ok ? true : undefined;
  }, timeoutMs);
}

/** A sample's value from Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
