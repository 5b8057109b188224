/**
 * docs/deploy.md's path against the test cluster: `helm install --wait` (kwok runs the pods, so
 * every Deployment becomes available), a sample QuickDeal applied with kubectl, an upgrade that
 * changes nothing it should not, and an uninstall that leaves nothing of the release behind.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clients, createNamespace, deleteNamespace, installCrd, kubectl, uniqueName, type Clients } from '../../../operator/test/support/kube.js';
import { chartDir, helm, repoRoot } from './support/chart.js';

const cluster = inject('kubernetes');
const release = uniqueName('qdi');
let api: Clients;
let namespace: string;

beforeAll(async () => {
  api = clients(cluster);
  await installCrd(cluster);
  namespace = await createNamespace(api, 'qd-install');
}, 60_000);

afterAll(async () => {
  await helm(cluster, ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
  if (namespace) await deleteNamespace(api, namespace);
});

describe('helm install', () => {
  it('installs the chart and waits until every component is available', async () => {
    const installed = await helm(cluster, [
      'install', release, chartDir, '--namespace', namespace,
      '--values', join(chartDir, 'ci', 'dev-values.yaml'), '--wait', '--timeout', '120s',
    ]);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(installed.stdout).toContain('STATUS: deployed');

    const deployments = await kubectl(cluster, ['get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`,
      '-o', 'jsonpath={range .items[*]}{.metadata.labels.app\\.kubernetes\\.io/component}={.status.availableReplicas}{"\\n"}{end}']);
    expect(deployments.stdout.trim().split('\n').sort()).toEqual(['admission=1', 'operator=1', 'payment=1', 'ticketing=1']);
  }, 150_000);

  it('takes a sample QuickDeal, as the docs show', async () => {
    const applied = await kubectl(cluster, ['apply', '-n', namespace, '-f', join(repoRoot, 'manifests', 'samples', 'demo-deal.yaml')]);
    expect(applied.stdout).toContain('quickdeal.quickdeal.io/demo-phone created');
    const listed = await kubectl(cluster, ['get', 'qd', '-n', namespace]);
    expect(listed.stdout).toMatch(/^demo-phone\s+100\s/m);
  });

  it('upgrades in place without restarting pods when nothing changed', async () => {
    const before = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    const upgraded = await helm(cluster, ['upgrade', release, chartDir, '--namespace', namespace, '--reuse-values', '--wait', '--timeout', '60s']);
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout).toContain('REVISION: 2');
    const after = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect(after.stdout.split('\n').sort()).toEqual(before.stdout.split('\n').sort());
  }, 90_000);

  it('uninstalls everything of the release but the CRD and the deals', async () => {
    const uninstalled = await helm(cluster, ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
    expect(uninstalled.code).toBe(0);
    const left = await kubectl(cluster, ['get', 'all,configmaps,secrets,serviceaccounts,roles,rolebindings,ingresses,networkpolicies,poddisruptionbudgets',
      '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
    const clusterWide = await kubectl(cluster, ['get', 'clusterroles,clusterrolebindings', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect(clusterWide.stdout.trim()).toBe('');
    expect((await kubectl(cluster, ['get', 'crd', 'quickdeals.quickdeal.io'])).code).toBe(0);
    expect((await kubectl(cluster, ['get', 'qd', 'demo-phone', '-n', namespace])).code).toBe(0);
  }, 90_000);
});
