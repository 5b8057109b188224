/**
 * The kube-state-metrics CustomResourceState config reads what the CRD declares: the phases of the
 * status's enum, the conditions list, the QuickDeal's group, version and kind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { quickDealCrd } from '@quickdeal/operator';
import { chartDir } from './support/chart.js';

interface MetricSpec {
  name: string;
  each: { type: string; stateSet?: { path: string[]; list: string[] }; gauge?: { path: string[]; valueFrom?: string[] } };
}
const config = parse(readFileSync(join(chartDir, 'kube-state-metrics', 'quickdeal.yaml'), 'utf8')) as {
  kind: string;
  spec: { resources: Array<{ groupVersionKind: Record<string, string>; metricNamePrefix: string; metrics: MetricSpec[] }> };
};

describe('the kube-state-metrics config', () => {
  const [resource] = config.spec.resources;
  const crd = quickDealCrd();
  const status = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.status;
  const metric = (name: string) => resource!.metrics.find((m) => m.name === name)!;

  it('watches QuickDeals of the CRD’s group, version and kind', () => {
    expect(config.kind).toBe('CustomResourceStateMetrics');
    expect(resource!.groupVersionKind).toEqual({ group: crd.spec.group, version: crd.spec.versions[0]!.name, kind: crd.spec.names.kind });
    expect(resource!.metricNamePrefix).toBe('quickdeal_deal');
  });

  it('exports every phase of the status and the conditions with their status as the value', () => {
    expect(metric('phase').each.stateSet).toMatchObject({ path: ['status', 'phase'], list: status.properties.phase.enum });
    expect(metric('condition').each.gauge).toMatchObject({ path: ['status', 'conditions'], valueFrom: ['status'] });
    expect(Object.keys(status.properties)).toEqual(expect.arrayContaining(['phase', 'conditions']));
  });
});
