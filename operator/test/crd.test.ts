import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createAdmissionMetrics, registerDealGauges } from '@quickdeal/admission';
import { createLogger } from '@quickdeal/core';
import { repoRoot } from '@quickdeal/dev/paths';
import { crdManifestFile, quickDealCrd, quickDealCrdYaml, lagMetric, waitingMetric } from '@quickdeal/operator';

/** Every node of a schema, with its path. */
function* nodes(schema: Record<string, unknown>, path = ''): Generator<[string, Record<string, unknown>]> {
  yield [path || '(root)', schema];
  for (const [name, child] of Object.entries((schema.properties as Record<string, Record<string, unknown>> | undefined) ?? {}))
    yield* nodes(child, `${path}.${name}`);
  if (schema.items) yield* nodes(schema.items as Record<string, unknown>, `${path}[]`);
}

describe('the QuickDeal CRD', () => {
  it('is committed as generated from the spec schema (run `npm run generate -w operator` when this fails)', () => {
    const committed = readFileSync(join(repoRoot, crdManifestFile), 'utf8');
    expect(committed).toBe(quickDealCrdYaml());
  });

  it('is structural: every node has a type, no additionalProperties beside properties, no $schema', () => {
    const schema = quickDealCrd().spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>;
    for (const [path, node] of nodes(schema)) {
      expect(node.type, path).toBeTypeOf('string');
      expect(node, path).not.toHaveProperty('additionalProperties');
      expect(node, path).not.toHaveProperty('$schema');
    }
  });

  it('says in CEL what the spec schema says in code, with the same messages', () => {
    const spec = parse(quickDealCrdYaml()).spec.versions[0].schema.openAPIV3Schema;
    const rules = [...nodes(spec)].flatMap(([path, node]) =>
      ((node['x-kubernetes-validations'] as Array<{ message: string }> | undefined) ?? []).map((rule) => `${path}: ${rule.message}`),
    );
    expect(rules).toEqual(
      expect.arrayContaining([
        '(root): must be a lowercase name of letters, digits and dashes (it names the Kafka topic), at most 63 characters',
        '.spec: opensAt must be before closesAt',
        '.spec.admission.checkoutWindow: must be a duration such as 20m, 90s or 1h30m',
        '.spec.admission.checkoutWindow: checkoutWindow must be at least 1s',
        '.spec.queue.ticketTTL: ticketTTL must be at least 1s',
        '.spec.admission.checkoutWindow: checkoutWindow must be at most 24d',
        '.spec.queue.ticketTTL: ticketTTL must be at most 24d',
        '.spec.product.currency: must be an ISO 4217 code such as KRW',
      ]),
    );
  });

  it('shows Phase, Stock, Sold, Waiting, Active and Age, and has the status subresource and the short name qd', () => {
    const [served] = quickDealCrd().spec.versions;
    expect(served!.additionalPrinterColumns.filter((column) => !column.priority).map((column) => column.name)).toEqual([
      'Phase',
      'Stock',
      'Sold',
      'Waiting',
      'Active',
      'Age',
    ]);
    expect(served!.subresources).toEqual({ status: {} });
    expect(quickDealCrd().spec.names.shortNames).toEqual(['qd']);
  });
});

describe('the metrics the scaler reads', () => {
  it('are metrics the admission service exports', async () => {
    const { registry } = createAdmissionMetrics();
    registerDealGauges(registry, {
      store: { dealIds: async () => [], snapshot: () => Promise.reject(new Error('no deals')) },
      lag: async () => new Map(),
      logger: createLogger('test', 'silent'),
    });
    for (const name of [waitingMetric, lagMetric]) expect(registry.getSingleMetric(name), name).toBeDefined();
  });
});
