/**
 * The manifests against the real API server: everything in manifests/ applies, the API server
 * enforces the CRD generated from the spec schema with the schema's own messages, and the
 * operator's ServiceAccount may do what the operator does and no more.
 */
import { join } from 'node:path';
import { ApiException } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { group, plural, version, type QuickDeal } from '@quickdeal/operator';
import { repoRoot } from '@quickdeal/dev/paths';
import { kubectl, uniqueName } from '@quickdeal/dev/testing';
import { createQuickDeal, deleteNamespace, quickDeal, setUpTestNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
let api: Clients;
let namespace: string;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-manifests'));
});

afterAll(async () => {
  await kubectl(cluster, ['delete', '-f', join(repoRoot, 'manifests', 'samples'), '--ignore-not-found', '--wait=false']);
  await kubectl(cluster, ['-n', 'quickdeal-system', 'delete', 'deployment', 'quickdeal-operator', '--ignore-not-found', '--wait=false']);
  await kubectl(cluster, ['-n', 'quickdeal-system', 'delete', 'job', 'quickdeal-migrations', '--ignore-not-found', '--wait=false']);
  if (namespace) await deleteNamespace(api, namespace);
});

describe('manifests/', () => {
  it('applies with `kubectl apply -f manifests/ --recursive` once the CRD is installed', async () => {
    const applied = await kubectl(cluster, ['apply', '-f', join(repoRoot, 'manifests'), '--recursive']);
    expect(applied.stderr).not.toMatch(/error/i); // a warning about a namespace made with `kubectl create` may appear
    expect(applied.code).toBe(0);
    // the migration Job runs the operator image's `migrate`, as the chart's hook does
    const job = JSON.parse(
      (await kubectl(cluster, ['-n', 'quickdeal-system', 'get', 'job', 'quickdeal-migrations', '-o', 'json'])).stdout,
    ) as {
      spec: { template: { spec: { containers: Array<{ image: string; args: string[] }> } } };
    };
    const operatorImage = (
      await kubectl(cluster, [
        '-n',
        'quickdeal-system',
        'get',
        'deployment',
        'quickdeal-operator',
        '-o',
        'jsonpath={.spec.template.spec.containers[0].image}',
      ])
    ).stdout;
    expect(job.spec.template.spec.containers[0]).toMatchObject({ image: operatorImage, args: ['migrate'] });
    for (const line of [
      'customresourcedefinition.apiextensions.k8s.io/quickdeals.quickdeal.io',
      'serviceaccount/quickdeal-operator',
      'clusterrole.rbac.authorization.k8s.io/quickdeal-operator',
      'role.rbac.authorization.k8s.io/quickdeal-operator-leader-election',
      'deployment.apps/quickdeal-operator',
      'job.batch/quickdeal-migrations',
      'quickdeal.quickdeal.io/demo-phone',
      'quickdeal.quickdeal.io/iphone-17-pro',
    ]) {
      expect(applied.stdout).toContain(line);
    }

    const listed = await kubectl(cluster, ['get', 'qd', '-n', 'default']);
    expect(listed.stdout.split('\n')[0]?.split(/\s+/)).toEqual(['NAME', 'PHASE', 'STOCK', 'SOLD', 'WAITING', 'ACTIVE', 'AGE']);
    expect(listed.stdout).toMatch(/^iphone-17-pro\s+500\s/m);
    // the API server filled in the schema's defaults
    const sample = (await api.custom.getNamespacedCustomObject({
      group,
      version,
      namespace: 'default',
      plural,
      name: 'iphone-17-pro',
    })) as QuickDeal;
    expect(sample.spec).toMatchObject({
      deletionPolicy: 'Retain',
      paused: false,
      admission: { maxActiveShoppers: 1000, checkoutWindow: '20m' },
    });
  });

  it('gives the operator’s ServiceAccount what the operator needs and no more', async () => {
    const as = '--as=system:serviceaccount:quickdeal-system:quickdeal-operator';
    const can = async (...args: string[]) => (await kubectl(cluster, ['auth', 'can-i', as, ...args])).stdout.trim();
    expect(await can('watch', 'quickdeals.quickdeal.io', '--all-namespaces')).toBe('yes');
    expect(await can('patch', 'quickdeals.quickdeal.io', '--subresource=status', '-n', namespace)).toBe('yes');
    expect(await can('create', 'events', '-n', namespace)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', 'quickdeal-system')).toBe('yes');
    expect(await can('patch', 'deployments.apps/quickdeal-admission', '--subresource=scale', '-n', 'quickdeal-system')).toBe('yes');
    expect(await can('patch', 'horizontalpodautoscalers.autoscaling/quickdeal-ticketing', '-n', 'quickdeal-system')).toBe('yes');

    expect(await can('delete', 'quickdeals.quickdeal.io', '-n', namespace)).toBe('no');
    expect(await can('create', 'quickdeals.quickdeal.io', '-n', namespace)).toBe('no');
    expect(await can('get', 'secrets', '-n', 'quickdeal-system')).toBe('no');
    expect(await can('patch', 'deployments.apps/quickdeal-admission', '-n', 'quickdeal-system')).toBe('no'); // the scale subresource only
    expect(await can('patch', 'deployments.apps/other', '--subresource=scale', '-n', 'quickdeal-system')).toBe('no');
    expect(await can('patch', 'horizontalpodautoscalers.autoscaling/other', '-n', 'quickdeal-system')).toBe('no');
    expect(await can('patch', 'deployments.apps/quickdeal-ticketing', '--subresource=scale', '-n', 'quickdeal-system')).toBe('no'); // the HPA scales ticketing
    expect(await can('update', 'leases.coordination.k8s.io', '-n', namespace)).toBe('no');
  });
});

describe('the QuickDeal CRD', () => {
  const refusal = async (body: ReturnType<typeof quickDeal>) => {
    const error = await createQuickDeal(api, namespace, body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, 'the API server accepted it').toBeInstanceOf(ApiException);
    const { code, body: status } = error as ApiException<string>;
    expect(code).toBe(422);
    return (JSON.parse(status) as { message: string }).message;
  };

  it('accepts a valid QuickDeal and fills in the defaults', async () => {
    const created = await createQuickDeal(
      api,
      namespace,
      quickDeal(uniqueName('valid'), { closesAt: new Date(Date.now() + 3_600_000).toISOString() }),
    );
    expect(created.spec).toMatchObject({
      paused: false,
      deletionPolicy: 'Retain',
      admission: { maxActiveShoppers: 1000, checkoutWindow: '20m' },
      queue: { ticketTTL: '2h' },
    });
  });

  it('refuses negative stock', async () => {
    expect(await refusal(quickDeal(uniqueName('neg'), { stock: -1 }))).toContain(
      'spec.stock: Invalid value: -1: spec.stock in body should be greater than or equal to 0',
    );
  });

  it('refuses a cap of 0', async () => {
    expect(await refusal(quickDeal(uniqueName('cap'), { admission: { maxActiveShoppers: 0 } }))).toContain(
      'spec.admission.maxActiveShoppers: Invalid value: 0: spec.admission.maxActiveShoppers in body should be greater than or equal to 1',
    );
  });

  it('refuses a duration it cannot read, and one under a second, with the schema’s messages', async () => {
    const unreadable = await refusal(quickDeal(uniqueName('dur'), { admission: { checkoutWindow: '20 minutes' } }));
    expect(unreadable).toContain(
      'spec.admission.checkoutWindow: Invalid value: "20 minutes": must be a duration such as 20m, 90s or 1h30m',
    );
    expect(unreadable).not.toContain('at least 1s');
    expect(await refusal(quickDeal(uniqueName('ttl'), { queue: { ticketTTL: '500ms' } }))).toContain(
      'spec.queue.ticketTTL: Invalid value: "500ms": ticketTTL must be at least 1s',
    );
  });

  it('refuses closesAt before opensAt', async () => {
    const body = quickDeal(uniqueName('close'), { opensAt: '2026-12-01T10:00:00+09:00', closesAt: '2026-12-01T09:59:00+09:00' });
    expect(await refusal(body)).toContain('spec.closesAt: Invalid value: opensAt must be before closesAt');
  });

  it('refuses a name that cannot name a Kafka topic, with the field path', async () => {
    const message = await refusal(quickDeal('iphone.17'));
    expect(message).toContain(
      'metadata.name: Invalid value: must be a lowercase name of letters, digits and dashes (it names the Kafka topic), at most 63 characters',
    );
    expect(message).not.toContain('<nil>');
  });

  it('refuses what Postgres could not store: a checkout window or ticket TTL over 24d, stock over 2147483647', async () => {
    expect(await refusal(quickDeal(uniqueName('window'), { admission: { checkoutWindow: '25d' } }))).toContain(
      'spec.admission.checkoutWindow: Invalid value: "25d": checkoutWindow must be at most 24d',
    );
    expect(await refusal(quickDeal(uniqueName('ttl'), { queue: { ticketTTL: '30d' } }))).toContain(
      'spec.queue.ticketTTL: Invalid value: "30d": ticketTTL must be at most 24d',
    );
    expect(await refusal(quickDeal(uniqueName('stock'), { stock: 3_000_000_000 }))).toContain(
      'spec.stock: Invalid value: 3000000000: spec.stock in body should be less than or equal to 2147483647',
    );
    // kubectl apply says the same, and nothing is created.
    const name = uniqueName('apply');
    const applied = await kubectl(
      cluster,
      ['-n', namespace, 'apply', '-f', '-'],
      JSON.stringify(quickDeal(name, { admission: { checkoutWindow: '24d1s' }, stock: 5 })),
    );
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('checkoutWindow must be at most 24d');
    expect((await kubectl(cluster, ['-n', namespace, 'get', 'qd', name])).code).not.toBe(0);
    // The bounds themselves pass.
    const edge = await createQuickDeal(
      api,
      namespace,
      quickDeal(uniqueName('edge'), { stock: 2_147_483_647, admission: { checkoutWindow: '24d' }, queue: { ticketTTL: '23d23h59m' } }),
    );
    expect(edge.spec.stock).toBe(2_147_483_647);
  });

  it('explains every part of the spec in `kubectl explain`', async () => {
    for (const field of ['admission', 'product', 'queue']) {
      const explained = await kubectl(cluster, ['explain', `quickdeals.spec.${field}`]);
      expect(explained.code, explained.stderr).toBe(0);
      expect(explained.stdout.split('DESCRIPTION:')[1]?.split('FIELDS:')[0]?.trim(), field).not.toBe('<empty>');
    }
  });

  it('refuses a timestamp without a time zone, and (with kubectl’s strict field validation) an unknown field', async () => {
    expect(await refusal(quickDeal(uniqueName('ts'), { opensAt: '2026-12-01T10:00:00' }))).toContain(
      'must be an RFC 3339 timestamp with a time zone',
    );
    const strict = await kubectl(
      cluster,
      ['-n', namespace, 'create', '-f', '-'],
      JSON.stringify({ ...quickDeal(uniqueName('strict')), spec: { ...quickDeal('x').spec, discount: 10 } }),
    );
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain('unknown field "spec.discount"');
  });
});
