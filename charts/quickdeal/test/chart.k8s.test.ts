/**
 * The chart with the real helm (built from the Go module proxy by dev/) and the real test API
 * server: `helm lint` and `helm template` for every ci/ scenario, the rendered manifests applied
 * with a server-side dry run (CRDs installed first), and what the manifests must agree with
 * elsewhere in the repository: the local gateway's routes, manifests/crd and manifests/rbac, the
 * services' configuration schemas, the alert rule file, the dashboards and skaffold.yaml.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { admissionConfigSchema } from '@quickdeal/admission';
import { migrateConfigSchema, operatorConfigSchema } from '@quickdeal/operator';
import { paymentConfigSchema } from '@quickdeal/payment';
import { ticketingConfigSchema } from '@quickdeal/ticketing';
import { repoRoot } from '@quickdeal/dev/paths';
import { publicRoutes, upstreamFor } from '@quickdeal/dev/gateway';
import { kubectl } from '@quickdeal/dev/testing';
import { deleteNamespace, setUpTestNamespace, type Clients } from '@quickdeal/dev/testing/kubernetes';
import {
  chartDir,
  ciValuesFiles,
  dashboardsDir,
  find,
  helm,
  installGatewayApiCrds,
  installKedaCrds,
  installMonitoringCrds,
  one,
  render,
  rulesFile,
  type K8sObject,
} from './support/chart.js';
import { parseDockerfile, stageByName } from './support/dockerfile.js';

const cluster = inject('kubernetes');
const components = ['ticketing', 'admission', 'payment', 'operator'] as const;
let api: Clients;
let namespace: string;
const createdNamespaces: string[] = [];

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-chart'));
  await installMonitoringCrds(cluster);
  await installGatewayApiCrds(cluster);
  await installKedaCrds(cluster); // ci/keda-values.yaml renders a ScaledObject
}, 120_000);

afterAll(async () => {
  for (const name of [namespace, ...createdNamespaces]) if (name) await deleteNamespace(api, name);
});

describe.each(ciValuesFiles)('ci/%s', (valuesFile) => {
  let objects: K8sObject[];
  let manifest: string;

  beforeAll(async () => {
    const rendered = await render(cluster, { valuesFile, namespace, release: 'qd' });
    if (rendered.error) throw new Error(`helm template failed: ${rendered.error}`);
    objects = rendered.objects;
    manifest = rendered.yaml;
  });

  it('passes `helm lint --strict`', async () => {
    const result = await helm(cluster, ['lint', chartDir, '--strict', '--values', join(chartDir, 'ci', valuesFile)]);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  it('is accepted by the API server (server-side dry run, strict field validation)', async () => {
    // Objects may live in other namespaces (dashboards for Grafana's, a RoleBinding where the operator watches).
    for (const other of new Set(
      objects.map((object) => object.metadata.namespace).filter((ns): ns is string => !!ns && ns !== namespace),
    )) {
      const exists = await kubectl(cluster, ['get', 'namespace', other]);
      if (exists.code !== 0) {
        await kubectl(cluster, ['create', 'namespace', other]);
        createdNamespaces.push(other);
      }
    }
    const applied = await kubectl(cluster, ['apply', '--dry-run=server', '--server-side', '--field-manager=helm', '-f', '-'], manifest);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout.trim().split('\n')).toHaveLength(objects.length);
  });

  it('names everything within 63 characters and labels it the standard way', () => {
    const names = new Set<string>();
    for (const object of objects) {
      const { name, labels = {} } = object.metadata;
      expect(name.length, `${object.kind} ${name}`).toBeLessThanOrEqual(63);
      expect(name, `${object.kind} ${name}`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      names.add(`${object.kind}/${object.metadata.namespace ?? ''}/${name}`);
      for (const label of [
        'helm.sh/chart',
        'app.kubernetes.io/name',
        'app.kubernetes.io/instance',
        'app.kubernetes.io/version',
        'app.kubernetes.io/managed-by',
        'app.kubernetes.io/part-of',
      ]) {
        expect(labels[label], `${object.kind} ${name}: ${label}`).toBeTruthy();
      }
    }
    expect(names.size).toBe(objects.length);
  });

  it('runs every container as non-root with a read-only root filesystem, no capabilities and the runtime seccomp profile', () => {
    const pods = [
      ...find(objects, 'Deployment').map((deployment) => ({ name: deployment.metadata.name, spec: deployment.spec.template.spec })),
      ...find(objects, 'Job').map((job) => ({ name: job.metadata.name, spec: job.spec.template.spec })),
      ...find(objects, 'Pod').map((pod) => ({ name: pod.metadata.name, spec: pod.spec })),
    ];
    expect(pods.length).toBeGreaterThan(0);
    for (const { name, spec } of pods) {
      expect(spec.securityContext, name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, name).toBeGreaterThan(0);
      for (const container of spec.containers) {
        expect(container.securityContext, name).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources?.requests, name).toBeTruthy();
        expect(container.resources?.limits?.memory, name).toBeTruthy();
      }
    }
  });

  it('probes every component on /healthz and /readyz, with a writable /tmp only', () => {
    for (const deployment of find(objects, 'Deployment')) {
      const [container] = deployment.spec.template.spec.containers;
      expect(container.livenessProbe.httpGet, deployment.metadata.name).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.httpGet, deployment.metadata.name).toEqual({ path: '/readyz', port: 'http' });
      expect(container.startupProbe.httpGet, deployment.metadata.name).toEqual({ path: '/healthz', port: 'http' });
      const writable = container.volumeMounts
        .filter((mount: { readOnly?: boolean }) => !mount.readOnly)
        .map((mount: { mountPath: string }) => mount.mountPath);
      expect(writable, deployment.metadata.name).toEqual(['/tmp']);
    }
  });

  it('rolls every component out without taking a ready pod away first', () => {
    for (const deployment of find(objects, 'Deployment')) {
      expect(deployment.spec.strategy, deployment.metadata.name).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
      });
    }
  });

  it('leaves replicas to the HorizontalPodAutoscaler (ticketing, payment), the operator or KEDA (admission) when they own the count', () => {
    const hpaTargets = find(objects, 'HorizontalPodAutoscaler').map((hpa) => hpa.spec.scaleTargetRef.name as string);
    for (const hpa of find(objects, 'HorizontalPodAutoscaler')) {
      expect(hpa.metadata.labels?.['app.kubernetes.io/component']).toMatch(/^(ticketing|payment)$/);
      expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    }
    const operator = find(objects, 'Deployment').find((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'operator');
    const operatorScales = operator?.spec.template.spec.containers[0].env.some(
      (e: { name: string; value?: string }) => e.name === 'SCALE_ADMISSION' && e.value === 'true',
    );
    const kedaScales = find(objects, 'ScaledObject').length > 0;
    expect(operatorScales === true && kedaScales, 'the operator and KEDA both scale admission').toBe(false);
    for (const deployment of find(objects, 'Deployment')) {
      const component = deployment.metadata.labels?.['app.kubernetes.io/component'];
      const ownedElsewhere =
        hpaTargets.includes(deployment.metadata.name) || (component === 'admission' && (operatorScales === true || kedaScales));
      expect(deployment.spec.replicas === undefined, `${deployment.metadata.name} replicas`).toBe(ownedElsewhere);
    }
    for (const pdb of find(objects, 'PodDisruptionBudget')) {
      const selector = pdb.spec.selector.matchLabels;
      const matches = find(objects, 'Deployment').filter((d) =>
        Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      expect(matches, pdb.metadata.name).toHaveLength(1);
    }
  });

  it('gives each component only configuration its schema reads, and enough of it to start', () => {
    const schemas = {
      ticketing: ticketingConfigSchema,
      admission: admissionConfigSchema,
      payment: paymentConfigSchema,
      operator: operatorConfigSchema,
    };
    // The keyring's variables are read by loadKeyring (services/core/src/tickets.ts), not by the schemas.
    const keyring = readFileSync(join(repoRoot, 'services', 'core', 'src', 'tickets.ts'), 'utf8');
    const outsideSchemas = ['NODE_ENV', 'TICKET_SIGNING_KEY_FILE', 'TICKET_VERIFICATION_KEYS_FILE'];
    for (const name of outsideSchemas.slice(1)) expect(keyring).toContain(`env.${name}`);
    const configMap = one(
      objects,
      'ConfigMap',
      find(objects, 'Deployment')[0]?.spec.template.spec.containers[0].envFrom[0].configMapRef.name,
    );
    for (const deployment of find(objects, 'Deployment')) {
      const component = deployment.metadata.labels?.['app.kubernetes.io/component'] as keyof typeof schemas;
      const schema = schemas[component];
      const keys = schemaKeys(schema);
      const container = deployment.spec.template.spec.containers[0];
      const env: Record<string, string> = { ...configMap.data };
      for (const variable of container.env as Array<{
        name: string;
        value?: string;
        valueFrom?: { secretKeyRef?: { name: string; key: string } };
      }>) {
        expect([...keys, ...outsideSchemas], `${component} gets ${variable.name}, which it does not read`).toContain(variable.name);
        env[variable.name] = variable.value ?? secretValue(objects, variable.name, variable.valueFrom?.secretKeyRef);
      }
      const parsed = schema.safeParse(env);
      expect(parsed.success ? 'ok' : parsed.error.message, `${component}'s configuration`).toBe('ok');
    }
    const read = new Set(Object.values(schemas).flatMap((schema) => schemaKeys(schema)));
    for (const key of Object.keys(configMap.data ?? {}))
      expect([...read, ...outsideSchemas], `the ConfigMap sets ${key}, which no component reads`).toContain(key);
  });
});

/** Paths that must route as the local gateway routes them, or not at all. */
const routeSamples = [
  '/api/v1/deals/iphone-17-pro/tickets',
  '/api/v1/deals/iphone-17-pro/tickets/status',
  '/api/v1/deals/demo-phone/checkout',
  '/api/v1/deals/demo-phone/orders',
  '/deals',
  '/deals/demo-phone',
  '/deals/demo-phone/checkout',
  '/deals/_assets/0123abcd/qd.css',
  '/dealsx',
  '/.well-known/jwks.json',
  '/metrics',
  '/healthz',
  '/readyz',
  '/',
  '/api/v1/deals/demo-phone',
  '/api/v1/deals',
  '/api/v1/deals/a/b/tickets',
  '/.well-known/jwksXjson',
];

interface HttpRouteRule {
  matches: Array<{ path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string } }>;
  backendRefs: Array<{ name: string; port: number }>;
}

/** A path match as the Gateway API defines it: Exact, PathPrefix element by element, RegularExpression over the whole path. */
function pathMatches(match: HttpRouteRule['matches'][number]['path'], path: string): boolean {
  if (match.type === 'Exact') return path === match.value;
  if (match.type === 'PathPrefix') return path === match.value || path.startsWith(`${match.value.replace(/\/$/, '')}/`);
  return new RegExp(`^(?:${match.value})$`).test(path);
}

describe('the HTTPRoute (Gateway API)', () => {
  it('routes exactly the public paths of dev/src/gateway/routes.ts, to the same services, with core matches where a prefix can say it', async () => {
    const { objects } = await render(cluster, { valuesFile: 'default-values.yaml', release: 'shop' });
    expect(find(objects, 'Ingress')).toEqual([]);
    const route = one(objects, 'HTTPRoute');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.parentRefs).toEqual([{ name: 'shop-gateway', namespace: 'gateway-system' }]);
    const rules = route.spec.rules as HttpRouteRule[];
    const types = rules.flatMap((rule) => rule.matches.map((match) => match.path.type));
    // Only the two paths with the deal id in the middle need more than the core matches.
    expect(types.filter((type) => type === 'RegularExpression')).toHaveLength(2);
    for (const rule of rules) expect(rule.backendRefs).toEqual([{ name: expect.stringMatching(/^shop-quickdeal-/), port: 80 }]);
    const routed = (path: string) => {
      const hits = rules.filter((rule) => rule.matches.some((match) => pathMatches(match.path, path)));
      expect(hits.length, `${path} matches ${hits.length} rules: precedence would decide`).toBeLessThan(2);
      return hits[0]?.backendRefs[0]?.name;
    };
    for (const sample of routeSamples) {
      const upstream = upstreamFor(sample);
      expect(routed(sample), sample).toBe(upstream ? `shop-quickdeal-${upstream}` : undefined);
    }
  });

  it('is valid for the official Gateway API CRDs on the API server', async () => {
    const { yaml } = await render(cluster, { valuesFile: 'production-values.yaml', release: 'shop' });
    const route = parseAllDocuments(yaml)
      .map((doc) => doc.toJS() as { kind?: string; metadata: { namespace: string } })
      .find((object) => object?.kind === 'HTTPRoute')!;
    route.metadata.namespace = namespace;
    const applied = await kubectl(cluster, ['apply', '--dry-run=server', '-n', namespace, '-f', '-'], JSON.stringify(route));
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('httproute.gateway.networking.k8s.io/shop-quickdeal created (server dry run)');
    // The CRD's own validation is live: a path that is no path is refused.
    const broken = JSON.stringify(route).replace('"value":"/deals"', '"value":"deals"');
    const refused = await kubectl(cluster, ['apply', '--dry-run=server', '-n', namespace, '-f', '-'], broken);
    expect(refused.code).not.toBe(0);
  });

  it('attached to a Gateway that does not exist: created, and its status stays empty until a Gateway controller answers', async () => {
    const { yaml } = await render(cluster, { valuesFile: 'default-values.yaml', release: 'orphan' });
    const route = parseAllDocuments(yaml)
      .map((doc) => doc.toJS() as { kind?: string; metadata: { namespace: string } })
      .find((object) => object?.kind === 'HTTPRoute')!;
    route.metadata.namespace = namespace;
    const applied = await kubectl(cluster, ['apply', '-n', namespace, '-f', '-'], JSON.stringify(route));
    expect(applied.code, applied.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const read = await kubectl(cluster, ['get', 'httproute', 'orphan-quickdeal', '-n', namespace, '-o', 'json']);
    const status = (JSON.parse(read.stdout) as { status?: { parents?: unknown[] } }).status;
    // No controller runs here: nobody writes status.parents. A conformant controller would set
    // Accepted=False with reason NoMatchingParent for the missing Gateway (docs/deploy.md).
    expect(status?.parents ?? []).toEqual([]);
  });

  it('needs its parent Gateway', async () => {
    const { error } = await render(cluster, { valuesFile: 'default-values.yaml', setJson: ['httpRoute.parentRefs=[]'] });
    expect(error).toContain('httpRoute.parentRefs is required');
  });
});

describe('the Ingress (optional)', () => {
  it('routes exactly the public paths of dev/src/gateway/routes.ts, to the same services', async () => {
    const { objects } = await render(cluster, { valuesFile: 'ingress-values.yaml', release: 'shop' });
    expect(find(objects, 'HTTPRoute')).toEqual([]);
    const ingress = one(objects, 'Ingress');
    expect(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/use-regex']).toBe('true');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    const paths = ingress.spec.rules[0].http.paths as Array<{
      path: string;
      pathType: string;
      backend: { service: { name: string; port: { name: string } } };
    }>;
    // ingress-nginx writes each path as `location ~* "^<path>"`: the table's leading ^ is its own.
    expect(paths.map((p) => ({ path: `^${p.path}`, service: p.backend.service.name }))).toEqual(
      publicRoutes.map((route) => ({ path: route.path, service: `shop-quickdeal-${route.upstream}` })),
    );
    for (const path of paths) {
      expect(path.pathType).toBe('ImplementationSpecific');
      expect(path.backend.service.port).toEqual({ name: 'http' });
    }

    // And they route like the gateway, matched the way ingress-nginx matches: longest path first,
    // first match wins, case-insensitive, anchored at the start.
    const locations = [...paths]
      .sort((a, b) => b.path.length - a.path.length)
      .map((p) => ({ pattern: new RegExp(`^${p.path}`, 'i'), service: p.backend.service.name }));
    const ingressRoute = (path: string) => locations.find((location) => location.pattern.test(path))?.service;
    for (const sample of routeSamples) {
      const upstream = upstreamFor(sample);
      expect(ingressRoute(sample), sample).toBe(upstream ? `shop-quickdeal-${upstream}` : undefined);
    }
  });

  it('serves every host given, with TLS when asked', async () => {
    const { objects } = await render(cluster, { valuesFile: 'ingress-values.yaml' });
    const ingress = one(objects, 'Ingress');
    expect(ingress.spec.rules.map((rule: { host: string }) => rule.host)).toEqual(['deals.example.com']);
    expect(ingress.spec.tls).toEqual([{ secretName: 'deals-example-com-tls', hosts: ['deals.example.com'] }]);
    expect(ingress.metadata.annotations).toMatchObject({
      'cert-manager.io/cluster-issuer': 'letsencrypt',
      'nginx.ingress.kubernetes.io/use-regex': 'true',
    });
  });
});

describe('what the chart shares with the rest of the repository', () => {
  it('ships the CRD of manifests/crd/ unchanged under crds/', () => {
    const ours = readdirSync(join(chartDir, 'crds')).sort();
    expect(ours).toEqual(readdirSync(join(repoRoot, 'manifests', 'crd')).sort());
    for (const file of ours) {
      expect(
        readFileSync(join(chartDir, 'crds', file), 'utf8'),
        `charts/quickdeal/crds/${file} differs from manifests/crd/${file}: cp manifests/crd/${file} charts/quickdeal/crds/`,
      ).toBe(readFileSync(join(repoRoot, 'manifests', 'crd', file), 'utf8'));
    }
  });

  it('grants the operator the rules of manifests/rbac/, its admission scaling limited to the release’s Deployment', async () => {
    const manifests = readdirSync(join(repoRoot, 'manifests', 'rbac')).flatMap((file) =>
      parseAllDocuments(readFileSync(join(repoRoot, 'manifests', 'rbac', file), 'utf8')).map((d) => d.toJS() as K8sObject),
    );
    const { objects } = await render(cluster, { valuesFile: 'default-values.yaml', release: 'shop' });
    expect(one(objects, 'ClusterRole').rules).toEqual(one(manifests, 'ClusterRole').rules);
    const normalise = (rules: Array<Record<string, unknown>>) =>
      rules
        .map((rule) => (rule.resourceNames ? { ...rule, resourceNames: ['<the admission Deployment>'] } : rule))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(normalise(one(objects, 'Role').rules ?? [])).toEqual(normalise(find(manifests, 'Role').flatMap((role) => role.rules ?? [])));
    expect(one(objects, 'Role').rules?.find((rule) => rule.resourceNames)?.resourceNames).toEqual(['shop-quickdeal-admission']);
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'shop-quickdeal-operator', namespace: 'shop' },
    ]);
    const watching = await render(cluster, { valuesFile: 'long-names-values.yaml' });
    expect(find(watching.objects, 'ClusterRoleBinding')).toEqual([]);
    expect(
      find(watching.objects, 'RoleBinding')
        .map((binding) => binding.metadata.namespace)
        .sort(),
    ).toEqual(['shop', 'shop']);
  });

  it('ships rules/quickdeal-alerts.yaml as the PrometheusRule, with the runbook URLs it is told', async () => {
    const ruleFile = parse(readFileSync(rulesFile, 'utf8'));
    const { objects } = await render(cluster, { valuesFile: 'production-values.yaml' });
    const rule = one(objects, 'PrometheusRule');
    expect(rule.spec).toEqual(ruleFile);
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const elsewhere = await render(cluster, { valuesFile: 'long-names-values.yaml' });
    const urls = one(elsewhere.objects, 'PrometheusRule').spec.groups.flatMap(
      (g: { rules: Array<{ annotations: { runbook_url: string } }> }) => g.rules.map((r) => r.annotations.runbook_url),
    );
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^https:\/\/wiki\.example\.com\/quickdeal\/runbooks#quickdeal[a-z]+$/);
  });

  it('ships every dashboard as a ConfigMap labelled for the Grafana sidecar', async () => {
    const { objects } = await render(cluster, { valuesFile: 'production-values.yaml' });
    const files = readdirSync(dashboardsDir)
      .filter((file) => file.endsWith('.json'))
      .sort();
    const configMaps = find(objects, 'ConfigMap').filter((cm) => cm.metadata.labels?.grafana_dashboard === '1');
    expect(configMaps.flatMap((cm) => Object.keys(cm.data ?? {})).sort()).toEqual(files);
    for (const cm of configMaps) {
      expect(cm.metadata.namespace).toBe('monitoring');
      expect(cm.metadata.annotations).toEqual({ grafana_folder: 'QuickDeal' });
      for (const [file, content] of Object.entries(cm.data ?? {})) expect(content).toBe(readFileSync(join(dashboardsDir, file), 'utf8'));
    }
  });

  it('keeps the metrics’ own service label when the Prometheus Operator scrapes', async () => {
    const { objects } = await render(cluster, { valuesFile: 'long-names-values.yaml' });
    expect(one(objects, 'ServiceMonitor').spec.endpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics', honorLabels: true }),
    ]);
    const podMonitored = await render(cluster, { valuesFile: 'minimal-values.yaml' });
    expect(one(podMonitored.objects, 'PodMonitor').spec.podMetricsEndpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics', honorLabels: true }),
    ]);
    const operator = find(objects, 'Deployment').find((d) => d.metadata.name.endsWith('-operator'));
    expect(operator?.spec.template.spec.containers[0].env).toContainEqual({
      name: 'PROMETHEUS_SELECTOR',
      value: 'namespace="shop",cluster="eu-1"',
    });
  });

  it('gives payment the public ticket keys only, and ticketing the signing key', async () => {
    const { objects } = await render(cluster, { valuesFile: 'minimal-values.yaml' });
    const secret = one(objects, 'Secret', 'qd-quickdeal-ticket-keys');
    const signing = JSON.parse(secret.stringData?.['signing.jwk.json'] ?? '{}') as Record<string, string>;
    const jwks = JSON.parse(secret.stringData?.['verification.jwks.json'] ?? '{}') as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((key) => key.x)).toEqual([signing.x, '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo']);
    for (const key of jwks.keys) expect(key.d).toBeUndefined();
    const items = (name: string) =>
      one(objects, 'Deployment', `qd-quickdeal-${name}`)
        .spec.template.spec.volumes.find((v: { name: string }) => v.name === 'ticket-keys')
        .secret.items.map((i: { key: string }) => i.key);
    expect(items('payment')).toEqual(['verification.jwks.json']);
    expect(items('ticketing')).toEqual(['signing.jwk.json', 'verification.jwks.json']);
  });
});

describe('the migration Job (a Helm hook)', () => {
  const hookOf = (object: K8sObject) => ({
    hook: object.metadata.annotations?.['helm.sh/hook'],
    weight: Number(object.metadata.annotations?.['helm.sh/hook-weight']),
    deletePolicy: object.metadata.annotations?.['helm.sh/hook-delete-policy'],
  });

  it('runs the operator image’s `migrate` before an install or upgrade, retried with back-off, as the other pods run', async () => {
    const { objects } = await render(cluster, { valuesFile: 'default-values.yaml' });
    const job = one(objects, 'Job', 'qd-quickdeal-migrations');
    expect(hookOf(job)).toEqual({ hook: 'pre-install,pre-upgrade', weight: 0, deletePolicy: 'before-hook-creation,hook-succeeded' });
    expect(job.spec).toMatchObject({ backoffLimit: 6, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 86400 });
    const pod = job.spec.template.spec;
    const operator = one(objects, 'Deployment', 'qd-quickdeal-operator').spec.template.spec;
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false });
    expect(pod.serviceAccountName).toBeUndefined(); // the chart's own ServiceAccounts do not exist yet when a pre-install hook runs
    expect(pod.securityContext).toEqual(operator.securityContext);
    const [container] = pod.containers;
    expect(container.securityContext).toEqual(operator.containers[0].securityContext);
    expect(container.image).toBe(operator.containers[0].image);
    expect(container.args).toEqual(['migrate']);
    // DATABASE_URL from a Secret that is itself a hook, made just before the Job (the release's Secret does not exist yet) and gone once it succeeded
    const databaseUrl = container.env.find((variable: { name: string }) => variable.name === 'DATABASE_URL');
    expect(databaseUrl.valueFrom.secretKeyRef).toEqual({ name: 'qd-quickdeal-migrations', key: 'database-url' });
    const secret = one(objects, 'Secret', 'qd-quickdeal-migrations');
    expect(hookOf(secret)).toEqual({ hook: 'pre-install,pre-upgrade', weight: -10, deletePolicy: 'before-hook-creation,hook-succeeded' });
    expect(secret.stringData).toEqual({ 'database-url': 'postgres://quickdeal:quickdeal@postgres:5432/quickdeal' });
    // what the Job passes is all `migrate` reads, and enough
    const env = Object.fromEntries(
      container.env.map((variable: { name: string; value?: string }) => [
        variable.name,
        variable.value ?? secret.stringData?.['database-url'],
      ]),
    );
    expect(Object.keys(env).sort()).toEqual(schemaKeys(migrateConfigSchema).sort());
    expect(migrateConfigSchema.safeParse(env).success).toBe(true);
  });

  it('reads the shop’s own Secret when it has one, and is left out when migrations are run elsewhere', async () => {
    const { objects } = await render(cluster, { valuesFile: 'production-values.yaml' });
    const [container] = one(objects, 'Job', 'qd-quickdeal-migrations').spec.template.spec.containers;
    expect(container.env[0]).toEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'quickdeal-connections', key: 'postgres-url' } },
    });
    expect(find(objects, 'Secret', 'qd-quickdeal-migrations')).toEqual([]);
    const off = await render(cluster, { valuesFile: 'default-values.yaml', set: ['migrations.enabled=false'] });
    expect(find(off.objects, 'Job')).toEqual([]);
    expect(find(off.objects, 'Secret', 'qd-quickdeal-migrations')).toEqual([]);
  });
});

describe('NetworkPolicies', () => {
  const gatewayPeers = ['networkPolicy.ingressFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=gateway-system'];

  it('are off by default: no namespace is the same in every cluster', async () => {
    const { objects } = await render(cluster, { valuesFile: 'default-values.yaml' });
    expect(find(objects, 'NetworkPolicy')).toEqual([]);
  });

  it('need the peers named when enabled, and Prometheus’s too when it scrapes', async () => {
    const unnamed = await render(cluster, { valuesFile: 'default-values.yaml', set: ['networkPolicy.enabled=true'] });
    expect(unnamed.error).toContain('networkPolicy.ingressFrom is required with networkPolicy.enabled');
    const unscraped = await render(cluster, {
      valuesFile: 'default-values.yaml',
      set: ['networkPolicy.enabled=true', 'metrics.serviceMonitor.enabled=true', ...gatewayPeers],
    });
    expect(unscraped.error).toContain('networkPolicy.metricsFrom is required');
    const named = await render(cluster, { valuesFile: 'default-values.yaml', set: ['networkPolicy.enabled=true', ...gatewayPeers] });
    expect(named.error).toBeUndefined();
    expect(find(named.objects, 'NetworkPolicy')).toHaveLength(4);
  });

  it('admit exactly the peers given, never an empty `from` (which admits everyone)', async () => {
    const { objects } = await render(cluster, { valuesFile: 'production-values.yaml' });
    const policies = find(objects, 'NetworkPolicy');
    expect(policies.map((policy) => policy.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual([
      'admission',
      'operator',
      'payment',
      'ticketing',
    ]);
    const peers = (namespace: string) => [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }];
    for (const policy of policies) {
      const component = policy.metadata.labels?.['app.kubernetes.io/component'] as string;
      const froms = (policy.spec.ingress as Array<{ from: unknown[] }>).map((rule) => rule.from);
      for (const from of froms) expect(from.length, component).toBeGreaterThan(0);
      expect(froms.slice(0, -1), component).toEqual(
        ['ticketing', 'payment'].includes(component) ? [peers('gateway-system'), peers('monitoring')] : [peers('monitoring')],
      );
    }
  });
});

describe('Chart.yaml', () => {
  it('claims the Kubernetes versions the tests run on, and helm refuses an older cluster', async () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { kubeVersion: string };
    const version = JSON.parse((await kubectl(cluster, ['version', '-o', 'json'])).stdout) as { serverVersion: { gitVersion: string } };
    const [, major, minor] = /^v(\d+)\.(\d+)\./.exec(version.serverVersion.gitVersion) ?? [];
    expect(chart.kubeVersion).toBe(`>=${major}.${minor}.0-0`);
    const older = await render(cluster, { valuesFile: 'default-values.yaml', kubeVersion: `${major}.${Number(minor) - 1}.0` });
    expect(older.error).toContain('incompatible with Kubernetes');
    const tested = await render(cluster, { valuesFile: 'default-values.yaml', kubeVersion: version.serverVersion.gitVersion });
    expect(tested.error).toBeUndefined();
  });
});

describe('values.schema.json, as helm applies it', () => {
  it.each([
    ['ticketing.replica=2', "additional properties 'replica' not allowed"],
    ['ingress.host=deals.example.com', "additional properties 'host' not allowed"],
    ['metrics.serviceMonitor.intervall=30s', "additional properties 'intervall' not allowed"],
    ['operator.scaling.max=3', "additional properties 'max' not allowed"],
    ['kafka.brokers[0]=kafka', 'does not match pattern'],
    ['config.logLevel=verbose', 'value must be one of'],
    ['ticketing.image.digest=latest', 'does not match pattern'],
    ['redis.topology=replicated', 'value must be one of'],
    ['redis.clusterNodes[0]=redis-cluster', 'does not match pattern'],
    ['metrics.podMonitor.enabled=true,metrics.serviceMonitor.enabled=true', "at '/metrics': 'not' failed"], // every pod scraped twice
  ])('refuses --set %s', async (set, message) => {
    const { error } = await render(cluster, { valuesFile: 'default-values.yaml', set: [set] });
    expect(error).toContain(message);
  });

  it('says which value is missing when a required one is', async () => {
    const { error } = await render(cluster, {});
    expect(error).toContain('kafka.brokers is required');
    const keyless = await render(cluster, {
      valuesFile: 'default-values.yaml',
      setJson: [`ticketKeys.signingKey=${JSON.stringify('{"kty":"OKP"}')}`],
    });
    expect(keyless.error).toContain('ticketKeys.signingKey must be a private Ed25519 JWK');
  });

  it.each([
    [['redis.topology=cluster', 'redis.url='], 'redis.clusterNodes is required with redis.topology=cluster'],
    [['redis.topology=sentinel', 'redis.url=', 'redis.sentinels[0]=sentinel:26379'], 'redis.sentinels and redis.sentinelName are required'],
    [['redis.topology=cluster', 'redis.clusterNodes[0]=redis:6379'], 'redis.url is for redis.topology=standalone'],
  ])('refuses an incomplete Redis topology: %s', async (set, message) => {
    const { error } = await render(cluster, { valuesFile: 'default-values.yaml', set });
    expect(error).toContain(message);
  });
});

describe('Redis topologies', () => {
  const redisEnv = (objects: K8sObject[]) =>
    Object.fromEntries(
      find(objects, 'Deployment').map((deployment) => [
        deployment.metadata.labels?.['app.kubernetes.io/component'],
        (deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>)
          .filter((variable) => variable.name.startsWith('REDIS_'))
          .map((variable) => variable.value ?? variable.valueFrom),
      ]),
    );

  it('points every component at a Redis Cluster, with its password from a Secret and a replica to confirm each ticket', async () => {
    const { objects } = await render(cluster, { valuesFile: 'redis-cluster-values.yaml' });
    const nodes = 'redis-cluster-0.redis-cluster:6379,redis-cluster-1.redis-cluster:6379,redis-cluster-2.redis-cluster:6379';
    const password = { secretKeyRef: { name: 'qd-quickdeal-connections', key: 'redis-password' } };
    expect(redisEnv(objects)).toEqual({
      ticketing: [nodes, password],
      payment: [nodes, password],
      admission: [nodes, password],
      operator: [nodes, password],
    });
    expect(one(objects, 'Secret', 'qd-quickdeal-connections').stringData).toMatchObject({ 'redis-password': 's3cret' });
    expect(one(objects, 'ConfigMap', 'qd-quickdeal').data).toMatchObject({ REDIS_WAIT_REPLICAS: '1' });
  });

  it('points every component at the Sentinels, with the password from the shop’s own Secret', async () => {
    const { objects } = await render(cluster, { valuesFile: 'redis-sentinel-values.yaml' });
    const sentinels = 'redis-sentinel-0.redis-sentinel:26379,redis-sentinel-1.redis-sentinel:26379,redis-sentinel-2.redis-sentinel:26379';
    const password = { secretKeyRef: { name: 'shop-redis', key: 'password' } };
    expect(redisEnv(objects)).toEqual({
      ticketing: [sentinels, 'quickdeal', password],
      payment: [sentinels, 'quickdeal', password],
      admission: [sentinels, 'quickdeal', password],
      operator: [sentinels, 'quickdeal', password],
    });
  });
});

describe('NOTES.txt', () => {
  it('says how to reach the waiting room and import the dashboards', async () => {
    const result = await helm(cluster, [
      'install',
      'shop',
      chartDir,
      '--namespace',
      namespace,
      '--dry-run=server',
      '--values',
      join(chartDir, 'ci', 'production-values.yaml'),
    ]);
    expect(result.stderr).toBe('');
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    expect(notes).toContain('https://deals.example.com/deals/demo-phone');
    expect(notes).toContain(`helm test shop -n ${namespace}`);
    expect(notes).toContain('grafana_dashboard');
    expect(notes).toContain('ServiceMonitor shop-quickdeal');
  });
});

describe('skaffold.yaml', () => {
  const skaffold = parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8')) as {
    build: { artifacts: Array<{ image: string; docker: { dockerfile: string; target: string } }> };
    deploy: { helm: { releases: Array<{ chartPath: string; setValueTemplates: Record<string, string> }> } };
    profiles: Array<{ name: string; patches: Array<{ path: string; value: unknown }> }>;
  };

  it('builds one artifact per image, each a target of the Dockerfile', () => {
    const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
    expect(skaffold.build.artifacts.map((artifact) => artifact.docker.target)).toEqual([...components]);
    for (const artifact of skaffold.build.artifacts) {
      expect(artifact.image).toBe(`quickdeal/${artifact.docker.target}`);
      expect(artifact.docker.dockerfile).toBe('Dockerfile');
      expect(stageByName(dockerfile, artifact.docker.target), artifact.docker.target).toBeDefined();
    }
  });

  it('sets each component’s image from skaffold’s templates, and the chart renders them', async () => {
    const [release] = skaffold.deploy.helm.releases;
    expect(release?.chartPath).toBe('charts/quickdeal');
    const templates = release?.setValueTemplates ?? {};
    const expected: Record<string, string> = {};
    for (const artifact of skaffold.build.artifacts) {
      const variable = artifact.image.replace(/[/-]/g, '_');
      expected[`${artifact.docker.target}.image.repository`] = `{{.IMAGE_REPO_${variable}}}`;
      expected[`${artifact.docker.target}.image.tag`] = `{{.IMAGE_TAG_${variable}}}`;
    }
    expect(templates).toEqual(expected);
    // What skaffold passes after filling its templates in.
    const set = Object.keys(templates).map(
      (key) => `${key}=${key.endsWith('repository') ? `registry.local/quickdeal/${key.split('.')[0]}` : 'b1d5e7'}`,
    );
    const { objects, error } = await render(cluster, { valuesFile: 'dev-values.yaml', set });
    expect(error).toBeUndefined();
    for (const component of components) {
      expect(one(objects, 'Deployment', `qd-quickdeal-${component}`).spec.template.spec.containers[0].image).toBe(
        `registry.local/quickdeal/${component}:b1d5e7`,
      );
    }
  });

  it('has a dev profile installing with a ci/ scenario', () => {
    const dev = skaffold.profiles.find((profile) => profile.name === 'dev');
    const valuesFiles = dev?.patches.find((patch) => patch.path === '/deploy/helm/releases/0/valuesFiles')?.value as string[];
    expect(valuesFiles).toEqual(['charts/quickdeal/ci/dev-values.yaml']);
    expect(ciValuesFiles).toContain('dev-values.yaml');
  });
});

/** The variables a zod configuration schema reads (through refinements and transforms). */
function schemaKeys(schema: unknown): string[] {
  const node = schema as { shape?: Record<string, unknown>; in?: unknown; def?: { innerType?: unknown; in?: unknown } };
  if (node.shape) return Object.keys(node.shape);
  const inner = node.in ?? node.def?.in ?? node.def?.innerType;
  if (inner) return schemaKeys(inner);
  throw new Error('not an object schema');
}

/** A Secret's value as the chart renders it, or a stand-in for one the user provides. */
function secretValue(objects: K8sObject[], name: string, ref: { name: string; key: string } | undefined): string {
  if (!ref) return `${name.toLowerCase()}-from-the-downward-api`;
  const secret = find(objects, 'Secret', ref.name)[0];
  const value = secret?.stringData?.[ref.key];
  if (value !== undefined) return value;
  if (secret) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
  return (
    { REDIS_URL: 'redis://redis.data:6379', DATABASE_URL: 'postgres://quickdeal:secret@postgres.data:5432/quickdeal' }[name] ??
    'from-an-existing-secret'
  );
}
