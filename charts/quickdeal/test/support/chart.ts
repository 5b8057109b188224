/**
 * What the chart's tests share: where things are, helm against the test cluster's binaries, the
 * rendered manifests as objects, and the PromQL of the dashboards and alert rules.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ensureGatewayApiCrds } from '@quickdeal/dev/gateway-api';
import { ensureKedaCrds } from '@quickdeal/dev/keda';
import { repoRoot } from '@quickdeal/dev/paths';
import { kubectl, run } from '@quickdeal/dev/testing';
import type { Kubernetes } from '@quickdeal/dev/testing/kubernetes';

export const chartDir = join(repoRoot, 'charts', 'quickdeal');
export const ciValuesFiles = readdirSync(join(chartDir, 'ci'))
  .filter((file) => file.endsWith('-values.yaml'))
  .sort();
export const rulesFile = join(chartDir, 'rules', 'quickdeal-alerts.yaml');
export const dashboardsDir = join(chartDir, 'dashboards');

/** A Kubernetes object as helm renders it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  rules?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export function helm(cluster: Kubernetes, args: string[]) {
  return run(join(cluster.binDir, 'helm'), ['--kubeconfig', cluster.kubeconfig, ...args]);
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFile?: string; // a file name under ci/, or an absolute path
  set?: string[]; // --set key=value
  setJson?: string[]; // --set-json key=<JSON>
  kubeVersion?: string; // --kube-version: the cluster version helm checks Chart.yaml's kubeVersion against
}

/**
 * The Prometheus Operator's CRDs, cut down to what the chart uses (test/fixtures), so the API
 * server validates the chart's ServiceMonitor, PodMonitor and PrometheusRule.
 */
export async function installMonitoringCrds(cluster: Kubernetes): Promise<void> {
  const applied = await kubectl(cluster, ['apply', '-f', join(chartDir, 'test', 'fixtures', 'monitoring.coreos.com-crds.yaml')]);
  if (applied.code !== 0) throw new Error(`installing the monitoring.coreos.com CRDs failed: ${applied.stderr}`);
  const crds = ['servicemonitors', 'podmonitors', 'prometheusrules'].map((plural) => `crd/${plural}.monitoring.coreos.com`);
  const established = await kubectl(cluster, ['wait', '--for=condition=Established', ...crds, '--timeout=30s']);
  if (established.code !== 0) throw new Error(`the monitoring.coreos.com CRDs were not established: ${established.stderr}`);
}

/** The official Gateway API CRDs (standard channel, from the Go module proxy, cached), so HTTPRoutes validate as a real cluster validates them. */
export async function installGatewayApiCrds(cluster: Kubernetes): Promise<void> {
  const dir = await ensureGatewayApiCrds();
  const applied = await kubectl(cluster, ['apply', '--server-side', '-f', dir]);
  if (applied.code !== 0) throw new Error(`installing the Gateway API CRDs failed: ${applied.stderr}`);
  const crds = ['gateways', 'httproutes', 'gatewayclasses'].map((plural) => `crd/${plural}.gateway.networking.k8s.io`);
  const established = await kubectl(cluster, ['wait', '--for=condition=Established', ...crds, '--timeout=30s']);
  if (established.code !== 0) throw new Error(`the Gateway API CRDs were not established: ${established.stderr}`);
}

/** KEDA's ScaledObject CRD (from its Go module, cached), so the chart's optional ScaledObject validates as a cluster running KEDA validates it. */
export async function installKedaCrds(cluster: Kubernetes): Promise<void> {
  const dir = await ensureKedaCrds();
  const applied = await kubectl(cluster, ['apply', '--server-side', '-f', dir]);
  if (applied.code !== 0) throw new Error(`installing the KEDA CRDs failed: ${applied.stderr}`);
  const established = await kubectl(cluster, ['wait', '--for=condition=Established', 'crd/scaledobjects.keda.sh', '--timeout=30s']);
  if (established.code !== 0) throw new Error(`the KEDA CRDs were not established: ${established.stderr}`);
}

/** `helm template`: the manifests as objects, or the error helm printed. */
export async function render(
  cluster: Kubernetes,
  options: RenderOptions = {},
): Promise<{ objects: K8sObject[]; yaml: string; error?: string }> {
  const args = ['template', options.release ?? 'qd', chartDir, '--namespace', options.namespace ?? 'shop'];
  if (options.valuesFile)
    args.push('--values', options.valuesFile.startsWith('/') ? options.valuesFile : join(chartDir, 'ci', options.valuesFile));
  for (const value of options.set ?? []) args.push('--set', value);
  for (const value of options.setJson ?? []) args.push('--set-json', value);
  if (options.kubeVersion) args.push('--kube-version', options.kubeVersion);
  const result = await helm(cluster, args);
  if (result.code !== 0) return { objects: [], yaml: '', error: result.stderr.trim() };
  const objects = parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
  return { objects, yaml: result.stdout };
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
}

export function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}

/** The alert rule file as Prometheus reads it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const file = parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
  return file.groups.flatMap((group) => group.rules);
}

export interface DashboardQuery {
  dashboard: string; // file name
  panel: string;
  expr: string;
}

export interface Dashboard {
  file: string;
  json: {
    uid: string;
    title: string;
    panels: Array<{
      id: number;
      type: string;
      title: string;
      datasource?: { type: string; uid: string };
      targets?: Array<{ expr: string; refId: string; datasource?: { uid: string } }>;
    }>;
    templating: { list: Array<{ name: string; type: string; query: unknown; datasource?: { uid: string }; allValue?: string }> };
  };
}

export function dashboards(): Dashboard[] {
  return readdirSync(dashboardsDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as Dashboard['json'] }));
}

export function dashboardQueries(): DashboardQuery[] {
  return dashboards().flatMap(({ file, json }) =>
    json.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ dashboard: file, panel: panel.title, expr: target.expr }))),
  );
}

/** The queries of the dashboards' `label_values(selector, label)` variables. */
export function dashboardVariableQueries(): Array<{ dashboard: string; name: string; selector: string; label: string }> {
  return dashboards().flatMap(({ file, json }) =>
    json.templating.list
      .filter((variable) => variable.type === 'query')
      .map((variable) => {
        const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
        const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query);
        if (!match?.[1] || !match[2]) throw new Error(`${file}: variable ${variable.name} is not label_values(selector, label): ${query}`);
        return { dashboard: file, name: variable.name, selector: match[1], label: match[2] };
      }),
  );
}

/** The QuickDeal metric names a PromQL expression reads. */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(withoutStrings.match(/\bquickdeal_[a-zA-Z0-9_:]*/g) ?? [])];
}

/** The metric names a Prometheus text exposition declares, histograms with their _bucket, _sum and _count series. */
export function exposedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const typed = /^# TYPE (\S+) (\w+)/.exec(line);
    if (typed?.[1]) {
      names.add(typed[1]);
      if (typed[2] === 'histogram' || typed[2] === 'summary') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${typed[1]}${suffix}`);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}

/** A dashboard query as Grafana sends it: its variables replaced. */
export function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the variable $${name} in ${expr}`);
    return value;
  });
}
