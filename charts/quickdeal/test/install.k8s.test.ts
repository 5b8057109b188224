/**
 * docs/deploy.md, as written, against the test cluster: its shell blocks run with `sh` (helm and
 * kubectl are the test cluster's, the namespace and release are this test's own, and the repo's
 * paths are made absolute): the key is generated, the values file written, `helm install --wait`
 * completes (kwok runs the pods, so every Deployment becomes available), the sample QuickDeal
 * applies, the key rotation works, and then an upgrade and an uninstall behave.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKeyring } from '@quickdeal/core';
import { repoRoot } from '@quickdeal/dev/paths';
import { eventually, kubectl, startProcess, uniqueName } from '@quickdeal/dev/testing';
import { deleteNamespace, setUpTestNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';
import { chartDir, helm, installGatewayApiCrds, installMonitoringCrds } from './support/chart.js';

const cluster = inject('kubernetes');
const release = uniqueName('qdi');
const doc = readFileSync(join(repoRoot, 'docs', 'deploy.md'), 'utf8');
const shellBlocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
let api: Clients;
let namespace: string;
let workDir: string;

/** The doc's shell block that contains `marker`. */
function block(marker: string): string {
  const found = shellBlocks.find((text) => text.includes(marker));
  if (!found) throw new Error(`docs/deploy.md has no sh block with "${marker}"`);
  return found;
}

/** Runs doc commands with this test's namespace, release, helm and kubectl, in a scratch directory. */
async function sh(commands: string) {
  const script = commands
    .replace(/charts\/quickdeal/g, chartDir)
    .replace(/manifests\/samples\//g, `${join(repoRoot, 'manifests', 'samples')}/`)
    .replace(/(--namespace|-n) shop\b/g, `$1 ${namespace}`)
    .replace(/helm (install|upgrade|test|uninstall) quickdeal\b/g, `helm $1 ${release}`);
  const started = startProcess('sh', ['-euc', `cd ${workDir}\n${script}`], {
    PATH: `${cluster.binDir}:${process.env.PATH ?? ''}`,
    KUBECONFIG: cluster.kubeconfig,
  });
  const code = await started.exited;
  if (code !== 0) throw new Error(`sh exited with ${code}:\n${script}\n${started.output()}`);
  return { stdout: started.output() };
}

/** `kubectl get deployments` of this test's release, in the given output format. */
function releaseDeployments(output: string) {
  return kubectl(cluster, ['get', 'deployments', '-n', namespace, '-l', `app.kubernetes.io/instance=${release}`, '-o', output]);
}

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-install'));
  await installMonitoringCrds(cluster); // the doc's values enable a ServiceMonitor and a PrometheusRule
  await installGatewayApiCrds(cluster); // and route through the Gateway API
  workDir = mkdtempSync(join(tmpdir(), 'qd-deploy-doc-'));
}, 60_000);

afterAll(async () => {
  await helm(cluster, ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
  if (namespace) await deleteNamespace(api, namespace);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('docs/deploy.md, as written', () => {
  it('generates a ticket signing key the services accept', async () => {
    await sh(block("generateKeyPairSync('ed25519')"));
    const { keyring, generated } = await loadKeyring({ TICKET_SIGNING_KEY_FILE: join(workDir, 'signing.jwk.json') });
    expect(generated).toBe(false);
    expect(keyring.signing).toBeDefined();
  });

  it('installs the chart with `helm install --wait` until every component is available', async () => {
    await sh(block('cat > quickdeal-values.yaml'));
    const installed = await sh(block('helm install quickdeal'));
    expect(installed.stdout).toContain('STATUS: deployed');
    // Ticketing's and payment's autoscalers own their counts, so `--wait` saw their first pod; the
    // autoscalers raise them to their minimum of 2 right after.
    const expected = ['admission=1', 'operator=2', 'payment=2', 'ticketing=2'];
    let available: string[] = [];
    await eventually('every component available at its count', async () => {
      const deployments = await releaseDeployments(
        'jsonpath={range .items[*]}{.metadata.labels.app\\.kubernetes\\.io/component}={.status.availableReplicas}{"\\n"}{end}',
      );
      available = deployments.stdout.trim().split('\n').sort();
      return available.join() === expected.join() ? true : undefined;
    }).catch(() => undefined);
    expect(available).toEqual(expected);
    // The migrations ran first, as a hook Job that completed; helm deleted it and its Secret once it had.
    const migrations = await kubectl(cluster, [
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      `involvedObject.kind=Job,involvedObject.name=${release}-quickdeal-migrations`,
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(migrations.stdout.trim().split('\n')).toContain('Completed');
    const hookLeftovers = await kubectl(cluster, [
      'get',
      'jobs,secrets',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/component=migrations',
      '-o',
      'name',
    ]);
    expect(hookLeftovers.stdout.trim()).toBe('');
    const monitors = await kubectl(cluster, ['get', 'servicemonitors,prometheusrules', '-n', namespace, '-o', 'name']);
    expect(monitors.stdout.trim().split('\n').sort()).toEqual([
      `prometheusrule.monitoring.coreos.com/${release}-quickdeal`,
      `servicemonitor.monitoring.coreos.com/${release}-quickdeal`,
    ]);
    // The public paths go through the Gateway API: an HTTPRoute attached to the doc's Gateway, no Ingress.
    const routes = await kubectl(cluster, ['get', 'httproutes,ingresses', '-n', namespace, '-o', 'json']);
    const items = (
      JSON.parse(routes.stdout) as { items: Array<{ kind: string; metadata: { name: string }; spec: Record<string, unknown> }> }
    ).items;
    expect(items.map((item) => `${item.kind}/${item.metadata.name}`)).toEqual([`HTTPRoute/${release}-quickdeal`]);
    expect(items[0]?.spec).toMatchObject({
      parentRefs: [expect.objectContaining({ name: 'shop-gateway', namespace: 'gateway-system' })],
      hostnames: ['deals.example.com'],
    });
  }, 150_000);

  it('applies the sample QuickDeal and lists it', async () => {
    const applied = await sh(block('kubectl -n shop apply -f manifests/samples/demo-deal.yaml'));
    expect(applied.stdout).toContain('quickdeal.quickdeal.io/demo-phone created');
    expect(applied.stdout).toMatch(/^demo-phone\s+\S*\s*100\s/m);
  });

  it('rotates the signing key, keeping the previous one’s public half', async () => {
    const rotation = block('previous.jwks.json');
    const before = JSON.parse(readFileSync(join(workDir, 'signing.jwk.json'), 'utf8')) as { x: string };
    await sh(
      rotation
        .split('\n')
        .filter((line) => line.startsWith('node '))
        .join('\n'),
    );
    await sh(block("generateKeyPairSync('ed25519')"));
    const after = JSON.parse(readFileSync(join(workDir, 'signing.jwk.json'), 'utf8')) as { x: string };
    await sh(rotation.slice(rotation.indexOf('helm upgrade')));
    const secret = await kubectl(cluster, [
      'get',
      'secret',
      `${release}-quickdeal-ticket-keys`,
      '-n',
      namespace,
      '-o',
      'jsonpath={.data.verification\\.jwks\\.json}',
    ]);
    const jwks = JSON.parse(Buffer.from(secret.stdout, 'base64').toString()) as { keys: Array<{ x: string; d?: string }> };
    expect(jwks.keys.map((key) => key.x)).toEqual([after.x, before.x]);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
    await sh(block('create secret generic quickdeal-ticket-keys'));
    expect((await kubectl(cluster, ['get', 'secret', 'quickdeal-ticket-keys', '-n', namespace])).code).toBe(0);
  }, 90_000);

  it('upgrades in place without restarting pods when nothing changed', async () => {
    // Pods of the release that are not on their way out (the key rotation before this rolled some).
    const livePods = async () => {
      // The migration Job runs again on every upgrade (a hook): its pods are not the release's serving pods.
      const selector = `app.kubernetes.io/instance=${release},app.kubernetes.io/component!=migrations`;
      const listed = await kubectl(cluster, ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
      const pods = (JSON.parse(listed.stdout) as { items: Array<{ metadata: { name: string; deletionTimestamp?: string } }> }).items;
      return pods
        .filter((pod) => !pod.metadata.deletionTimestamp)
        .map((pod) => pod.metadata.name)
        .sort();
    };
    // Wait for the rotation's rollout to settle: every Deployment updated and only its current pods left.
    const settled = async () => {
      const listed = await releaseDeployments('json');
      const deployments = (
        JSON.parse(listed.stdout) as {
          items: Array<{
            metadata: { generation: number };
            spec: { replicas?: number };
            status: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number };
          }>;
        }
      ).items;
      const wanted = deployments.reduce((sum, d) => sum + (d.spec.replicas ?? 1), 0);
      const done = deployments.every(
        (d) =>
          d.status.observedGeneration === d.metadata.generation &&
          d.status.replicas === (d.spec.replicas ?? 1) &&
          d.status.updatedReplicas === d.status.replicas &&
          d.status.availableReplicas === d.status.replicas,
      );
      return done && (await livePods()).length === wanted;
    };
    for (let tries = 0; !(await settled()) && tries < 150; tries++) await sleep(200);
    const before = await livePods();
    const upgraded = await helm(cluster, [
      'upgrade',
      release,
      chartDir,
      '--namespace',
      namespace,
      '--reuse-values',
      '--wait',
      '--timeout',
      '60s',
    ]);
    expect(upgraded.code).toBe(0);
    expect(await livePods()).toEqual(before);
  }, 90_000);

  it('uninstalls everything of the release but the CRD and the deals', async () => {
    const uninstalled = await helm(cluster, ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '60s']);
    expect(uninstalled.code).toBe(0);
    const left = await kubectl(cluster, [
      'get',
      'all,configmaps,secrets,serviceaccounts,roles,rolebindings,ingresses,httproutes,networkpolicies,poddisruptionbudgets,servicemonitors,prometheusrules',
      '-n',
      namespace,
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '-o',
      'name',
    ]);
    expect(left.stdout.trim()).toBe('');
    const clusterWide = await kubectl(cluster, [
      'get',
      'clusterroles,clusterrolebindings',
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '-o',
      'name',
    ]);
    expect(clusterWide.stdout.trim()).toBe('');
    expect((await kubectl(cluster, ['get', 'crd', 'quickdeals.quickdeal.io'])).code).toBe(0);
    expect((await kubectl(cluster, ['get', 'qd', 'demo-phone', '-n', namespace])).code).toBe(0);
  }, 90_000);
});
