/**
 * Two operator processes (operator/src/main.ts, as deployed) share one Lease: only the leader
 * reconciles; when it is killed the other takes over within a lease duration; a graceful shutdown
 * releases the Lease. Both run as the operator's ServiceAccount, so this also proves that the RBAC
 * in manifests/rbac is enough.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '@quickdeal/core';
import { repoRoot } from '@quickdeal/dev/paths';
import { endpoints } from '@quickdeal/dev/profiles';
import { eventually, freePort, kubectl, metricValue, nodeEntry, startProcess, uniqueName, waitForHttp } from '@quickdeal/dev/testing';
import {
  clients,
  conditionOf,
  createNamespace,
  createQuickDeal,
  deleteNamespace,
  eventsOf,
  installCrd,
  isGone,
  isReady,
  patchSpec,
  quickDeal,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const leaseNamespace = 'quickdeal-system';
const leaseName = uniqueName('qd-operator-test');
const topicPrefix = `qdtest.${uniqueName('lease').replace(/-/g, '')}.`;
let api: Clients;
let namespace: string;
let workDir: string;
const operators = new Map<string, { process: ReturnType<typeof startProcess>; url: string }>();

async function startOperatorProcess(identity: string, kubeconfig: string) {
  const port = await freePort();
  const stack = endpoints('test');
  const [node, args] = nodeEntry('operator/src/main.ts');
  const process = startProcess(node, args, {
    KUBECONFIG: kubeconfig,
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: stack.postgresUrl,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: topicPrefix,
    POD_NAME: identity,
    POD_NAMESPACE: leaseNamespace,
    WATCH_NAMESPACE: namespace,
    LEASE_NAME: leaseName,
    LEASE_DURATION_SECONDS: '3',
    RENEW_DEADLINE_SECONDS: '2',
    RETRY_PERIOD_SECONDS: '0.5',
    RESYNC_SECONDS: '1',
    LOG_LEVEL: 'warn',
  });
  const url = `http://127.0.0.1:${port}`;
  operators.set(identity, { process, url });
  return { process, url };
}

const metricsOf = async (identity: string) => (await fetch(`${operators.get(identity)!.url}/metrics`)).text();
const holder = async () => (await api.coordination.readNamespacedLease({ name: leaseName, namespace: leaseNamespace })).spec ?? {};

beforeAll(async () => {
  api = clients(cluster);
  await installCrd(cluster);
  const namespaceYaml = `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${leaseNamespace} }\n`;
  for (const [args, input] of [[['apply', '-f', '-'], namespaceYaml], [['apply', '-f', join(repoRoot, 'manifests', 'rbac')]]] as const) {
    const applied = await kubectl(cluster, [...args], input);
    if (applied.code !== 0) throw new Error(applied.stderr);
  }
  namespace = await createNamespace(api, 'qd-leader');

  // A kubeconfig that authenticates as the operator's ServiceAccount instead of the admin.
  const token = await kubectl(cluster, ['-n', leaseNamespace, 'create', 'token', 'quickdeal-operator', '--duration=1h']);
  if (token.code !== 0) throw new Error(token.stderr);
  const config = parse(readFileSync(cluster.kubeconfig, 'utf8')) as { users: Array<{ user: { token: string } }> };
  config.users[0]!.user.token = token.stdout.trim();
  workDir = mkdtempSync(join(tmpdir(), 'qd-leader-'));
  const kubeconfig = join(workDir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });

  await Promise.all(['operator-a', 'operator-b'].map((identity) => startOperatorProcess(identity, kubeconfig)));
  for (const [identity, { process, url }] of operators) {
    await waitForHttp(`${url}/readyz`, `${identity} to be ready`, () => process.child.exitCode === null).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${process.output()}`);
    });
  }
}, 120_000);

afterAll(async () => {
  for (const { process } of operators.values()) {
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
    await process.exited;
  }
  if (namespace) await deleteNamespace(api, namespace);
  await api?.coordination.deleteNamespacedLease({ name: leaseName, namespace: leaseNamespace }).catch(() => undefined);
  const admin = createKafka({ brokers: endpoints('test').kafkaBrokers, clientId: 'operator-test-cleanup' }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('two operator processes', () => {
  it('only the leader acts; the other takes over when it dies, and a graceful stop hands the Lease back', async () => {
    const leader = await eventually('a leader', async () => (await holder()).holderIdentity || undefined, 15_000);
    const follower = leader === 'operator-a' ? 'operator-b' : 'operator-a';
    expect(metricValue(await metricsOf(leader), 'quickdeal_operator_leader')).toBe(1);
    expect(metricValue(await metricsOf(follower), 'quickdeal_operator_leader')).toBe(0);

    // The leader keeps the Lease across renewals: its renewTime moves on, the holder and transitions stay.
    const first = await holder();
    await sleep(7_000);
    const later = await holder();
    expect(later.holderIdentity).toBe(leader);
    expect(later.leaseTransitions ?? 0).toBe(first.leaseTransitions ?? 0);
    expect(new Date(String(later.renewTime)).getTime()).toBeGreaterThan(new Date(String(first.renewTime)).getTime());

    const name = uniqueName('led');
    await createQuickDeal(api, namespace, quickDeal(name, { stock: 5 }));
    await waitForDeal(api, namespace, name, 'Ready', isReady);
    expect(metricValue(await metricsOf(leader), 'quickdeal_operator_reconciles_total', { result: 'success' })).toBeGreaterThan(0);
    expect(metricValue(await metricsOf(follower), 'quickdeal_operator_reconciles_total', { result: 'success' })).toBe(0);
    expect(new Set((await eventsOf(api, namespace, name)).map((event) => event.reportingInstance))).toEqual(new Set([leader]));

    // The leader dies without a word: the follower takes the Lease once it expires.
    const killedAt = Date.now();
    operators.get(leader)!.process.child.kill('SIGKILL');
    await operators.get(leader)!.process.exited;
    await eventually(
      'the follower to take the Lease',
      async () => ((await holder()).holderIdentity === follower ? true : undefined),
      15_000,
    );
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await holder()).leaseTransitions).toBeGreaterThanOrEqual(1);

    await patchSpec(api, namespace, name, { stock: 7 });
    const edited = await waitForDeal(
      api,
      namespace,
      name,
      'the edit reconciled by the new leader',
      (d) => isReady(d) && d.status?.observedGeneration === 2,
    );
    expect(conditionOf(edited, 'ConfigSynced')?.message).toContain('Stock 7');
    expect(edited.status?.remaining).toBe(7);
    expect(metricValue(await metricsOf(follower), 'quickdeal_operator_leader')).toBe(1);
    expect(metricValue(await metricsOf(follower), 'quickdeal_operator_reconciles_total', { result: 'success' })).toBeGreaterThan(0);

    // Deleting runs the finalizer in the new leader.
    await api.custom.deleteNamespacedCustomObject({ group: 'quickdeal.io', version: 'v1alpha1', namespace, plural: 'quickdeals', name });
    await eventually(`${name} to be finalized`, async () => ((await isGone(api, namespace, name)) ? true : undefined), 15_000);

    // SIGTERM: the operator stops, releases the Lease and exits 0.
    operators.get(follower)!.process.child.kill('SIGTERM');
    expect(await operators.get(follower)!.process.exited).toBe(0);
    expect((await holder()).holderIdentity ?? '').toBe('');
  }, 120_000);
});
