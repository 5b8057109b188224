/**
 * The dashboards and alerts against the real thing: the three services and the operator run as
 * their own processes (their main.ts, configured the way the chart configures them), a real
 * Prometheus scrapes them, the operator opens a QuickDeal from the test API server, and a small
 * flash sale runs through it: shoppers who pay, cancel, abandon their checkout, wait out a pause
 * until their tickets expire, and arrive after the deal sold out. Then every metric a dashboard or
 * an alert names must be in the services' /metrics, every dashboard query must return data from
 * Prometheus, every alert expression must evaluate (and the oversell alert must not fire), and the
 * chart's `helm test` script must pass against the services.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TicketKeyring } from '@quickdeal/core';
import { group, mergePatch, plural, version } from '@quickdeal/operator';
import { logPath } from '@quickdeal/dev/paths';
import { endpoints } from '@quickdeal/dev/profiles';
import {
  eventually,
  freePort,
  nodeEntry,
  startProcess,
  startPrometheus,
  uniqueName,
  waitForHttp,
  type PrometheusInstance,
} from '@quickdeal/dev/testing';
import {
  createQuickDeal,
  deleteNamespace,
  deleteQuickDeals,
  quickDeal,
  setUpTestNamespace,
  waitForDeal,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';
import {
  alertRules,
  dashboardQueries,
  dashboardVariableQueries,
  exposedMetricNames,
  metricNames,
  one,
  render,
  substitute,
} from './support/chart.js';

const cluster = inject('kubernetes');
const components = ['payment', 'ticketing', 'admission', 'operator'] as const;
type Component = (typeof components)[number];
const entries: Record<Component, string> = {
  payment: 'services/payment/src/main.ts',
  ticketing: 'services/ticketing/src/main.ts',
  admission: 'services/admission/src/main.ts',
  operator: 'operator/src/main.ts',
};

const id = uniqueName('obs');
const dealId = id;
const urls = {} as Record<Component, string>;
const processes: Array<ReturnType<typeof startProcess>> = [];
let api: Clients;
let namespace: string;
let prometheus: PrometheusInstance | undefined;
let keyDir: string;
let saleEnded: Date;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-obs'));
  // The Deployment the operator scales, as the chart names it for the operator.
  await api.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: 'admission' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'admission' } },
        template: {
          metadata: { labels: { app: 'admission' } },
          spec: { containers: [{ name: 'admission', image: 'quickdeal/admission' }] },
        },
      },
    },
  });

  // Keys as the chart hands them out: ticketing signs, payment gets the public half only.
  keyDir = mkdtempSync(join(tmpdir(), 'qd-obs-keys-'));
  const signing = await TicketKeyring.generateSigningJwk();
  writeFileSync(join(keyDir, 'signing.jwk.json'), JSON.stringify(signing));
  writeFileSync(join(keyDir, 'verification.jwks.json'), JSON.stringify({ keys: [{ ...signing, d: undefined }] }));

  const ports = {} as Record<Component, number>;
  for (const component of components) {
    ports[component] = await freePort();
    urls[component] = `http://127.0.0.1:${ports[component]}`;
  }
  prometheus = await startPrometheus(
    components.map((component) => ({ job: component, targets: [`127.0.0.1:${ports[component]}`] })),
    { port: await freePort(), scrapeInterval: '1s' },
  );

  const stack = endpoints('test');
  const common = {
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: stack.postgresUrl,
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: `qdobs.${id}.`,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    // The chart's header mode (a trusted gateway sets X-User-Id): the sale below names its shoppers so.
    SHOPPER_IDENTITY: 'header',
  };
  const env: Record<Component, Record<string, string>> = {
    payment: { TICKET_VERIFICATION_KEYS_FILE: join(keyDir, 'verification.jwks.json'), SWEEP_INTERVAL_MS: '100' },
    ticketing: {
      TICKET_SIGNING_KEY_FILE: join(keyDir, 'signing.jwk.json'),
      TICKET_VERIFICATION_KEYS_FILE: join(keyDir, 'verification.jwks.json'),
      DEAL_REFRESH_MS: '100',
      TICKETS_PER_SHOPPER_PER_MINUTE: '1000',
      POLLS_PER_SHOPPER_PER_10S: '10000',
    },
    admission: { ADMISSION_GROUP_ID: `qdobs-${id}`, TOPIC_REFRESH_MS: '500', ADMISSION_BACKOFF_MS: '200' },
    operator: {
      KUBECONFIG: cluster.kubeconfig,
      POD_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      RESYNC_SECONDS: '2',
      PROMETHEUS_URL: prometheus.url,
      ADMISSION_DEPLOYMENT: 'admission',
      SCALING_INTERVAL_SECONDS: '2',
      SCALING_SCALE_DOWN_STABILIZATION_SECONDS: '0',
    },
  };
  for (const component of components) {
    const [command, args] = nodeEntry(entries[component]);
    const started = startProcess(command, args, { ...common, ...env[component], PORT: String(ports[component]) });
    processes.push(started);
    let alive = true;
    void started.exited.then(() => (alive = false));
    await waitForHttp(`${urls[component]}/readyz`, `${component} /readyz`, () => alive, 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${started.output()}`);
    });
  }
}, 240_000);

afterAll(async () => {
  if (namespace) await deleteQuickDeals(api, namespace, 20_000); // the operator's finalizer removes the deal's keys and topic
  // What the processes printed (the last 20 kB each), for a failure's post-mortem.
  processes.forEach((started, i) => writeFileSync(logPath('test', `chart-observability-${components[i]}`), started.output()));
  for (const started of processes.reverse()) {
    started.child.kill('SIGTERM');
    await Promise.race([started.exited, sleep(15_000)]);
  }
  await prometheus?.stop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  if (namespace) await deleteNamespace(api, namespace);
}, 90_000);

/** One shopper's HTTP calls, straight to the service the Ingress would route them to. */
function shopper(name: string) {
  let ticket = '';
  const headers = (extra: Record<string, string> = {}) => ({
    'X-User-Id': name,
    ...(ticket ? { Authorization: `Bearer ${ticket}` } : {}),
    ...extra,
  });
  const call = async (base: string, method: string, path: string, extra?: Record<string, string>) => {
    const response = await fetch(`${base}/api/v1/deals/${dealId}${path}`, {
      method,
      headers: headers(extra),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  return {
    name,
    async takeTicket() {
      const answer = await call(urls.ticketing, 'POST', '/tickets');
      if (typeof answer.body.ticket === 'string') ticket = answer.body.ticket;
      return answer;
    },
    poll: () => call(urls.ticketing, 'GET', '/tickets/status'),
    /** Polls until the status is one of `statuses` (or the ticket stops being valid); returns the last answer. */
    async waitFor(statuses: string[], timeoutMs = 30_000) {
      return eventually(
        `${name} to reach ${statuses.join('/')}`,
        async () => {
          const answer = await this.poll();
          if (answer.status !== 200) return answer;
          return statuses.includes(String(answer.body.status)) ? answer : undefined;
        },
        timeoutMs,
        100,
      );
    },
    checkout: () => call(urls.payment, 'GET', '/checkout'),
    pay: () => call(urls.payment, 'POST', '/orders', { 'Idempotency-Key': `${name}-order`, 'Content-Type': 'application/json' }),
    cancel: () => call(urls.payment, 'DELETE', '/checkout'),
  };
}
type Shopper = ReturnType<typeof shopper>;

async function setPaused(paused: boolean) {
  const deal = (await api.custom.patchNamespacedCustomObject(
    { group, version, namespace, plural, name: dealId, body: { spec: { paused } } },
    mergePatch,
  )) as { metadata: { generation: number } };
  await waitForDeal(api, namespace, dealId, `paused=${paused} applied`, (d) => d.status?.observedGeneration === deal.metadata.generation);
}

async function takeTickets(shoppers: Shopper[]) {
  for (const s of shoppers) expect((await s.takeTicket()).status, `${s.name}'s ticket`).toBe(201); // one by one: the queue order is the list's
}

describe('a small flash sale, watched by Prometheus', () => {
  it('runs through the operator, the line, checkout, a pause and a sell-out', async () => {
    await createQuickDeal(
      api,
      namespace,
      quickDeal(dealId, {
        stock: 6,
        admission: { maxActiveShoppers: 2, checkoutWindow: '3s' },
        queue: { ticketTTL: '5s' },
        deletionPolicy: 'Delete',
      }),
    );
    await waitForDeal(api, namespace, dealId, 'open', (deal) => deal.status?.phase === 'Open');
    await eventually('ticketing to know the deal', async () => ((await fetch(`${urls.ticketing}/deals/${dealId}`)).ok ? true : undefined));

    // 1. Six shoppers, two checkout slots: one abandons the checkout (it expires), one cancels, four pay.
    const first = ['abandons', 'pays-1', 'cancels', 'pays-2', 'pays-3', 'pays-4'].map((role) => shopper(`${id}-${role}`));
    await takeTickets(first);
    await Promise.all(
      first.map(async (s) => {
        const granted = await s.waitFor(['ACCESS_GRANTED']);
        expect(granted.body.status, s.name).toBe('ACCESS_GRANTED');
        if (s.name.endsWith('abandons')) return;
        expect((await s.checkout()).status, s.name).toBe(200);
        if (s.name.endsWith('cancels')) expect((await s.cancel()).status).toBe(204);
        else expect((await s.pay()).body.status, s.name).toBe('PAID');
      }),
    );
    expect((await first[0]?.waitFor(['ACCESS_EXPIRED']))?.body.status).toBe('ACCESS_EXPIRED');

    // 2. Paused: the next shoppers wait until their tickets expire, and are skipped when it resumes.
    await setPaused(true);
    const late = [1, 2, 3].map((n) => shopper(`${id}-waits-${n}`));
    await takeTickets(late);
    await sleep(6_000); // past the tickets' 5 s TTL
    await setPaused(false);

    // 3. The last two units sell; whoever is behind them is told the deal sold out.
    const last = ['pays-5', 'pays-6', 'too-late-1', 'too-late-2'].map((role) => shopper(`${id}-${role}`));
    await takeTickets(last);
    await Promise.all(
      last.map(async (s) => {
        const answer = await s.waitFor(['ACCESS_GRANTED', 'ITEM_SOLD_OUT']);
        if (s.name.includes('pays')) {
          expect(answer.body.status, s.name).toBe('ACCESS_GRANTED');
          expect((await s.pay()).body.status, s.name).toBe('PAID');
        } else {
          expect(answer.body.status, s.name).toBe('ITEM_SOLD_OUT');
        }
      }),
    );
    expect((await shopper(`${id}-after-the-end`).takeTicket()).status).toBe(410);
    await waitForDeal(api, namespace, dealId, 'sold out', (deal) => deal.status?.phase === 'SoldOut' && deal.status.sold === 6);
    saleEnded = new Date();
    await prometheus?.waitForScrapes(new Date(saleEnded.getTime() + 1_000));
  }, 180_000);

  it('exposes every metric a dashboard or an alert rule names', async () => {
    const exposed = new Set<string>();
    for (const component of components) {
      const text = await (await fetch(`${urls[component]}/metrics`)).text();
      for (const name of exposedMetricNames(text)) exposed.add(name);
    }
    const named = new Set([
      ...dashboardQueries().flatMap((q) => metricNames(q.expr)),
      ...dashboardVariableQueries().flatMap((v) => metricNames(v.selector)),
      ...alertRules().flatMap((rule) => metricNames(rule.expr)),
    ]);
    expect(named.size).toBeGreaterThan(20);
    // Series that come from elsewhere: Prometheus's own `up`, and kube-state-metrics's `quickdeal_deal_*` (kube-state-metrics.test.ts).
    const external = (name: string) => name === 'up' || name.startsWith('quickdeal_deal_');
    expect([...named].filter((name) => !exposed.has(name) && !external(name))).toEqual([]);
  });

  it('answers every dashboard query with data', async () => {
    if (!prometheus || !saleEnded) throw new Error('the sale did not run');
    const variables = { __rate_interval: '1m', deal: dealId, namespace: '.*', service: '.*' };
    const empty: string[] = [];
    for (const { dashboard, panel, expr } of dashboardQueries()) {
      const result = await prometheus.query(substitute(expr, variables));
      if (result.length === 0) empty.push(`${dashboard} / ${panel}: ${expr}`);
      for (const series of result) if (series.metric.deal !== undefined) expect(series.metric.deal, `${dashboard} / ${panel}`).toBe(dealId);
    }
    expect(empty).toEqual([]);

    for (const variable of dashboardVariableQueries()) {
      if (variable.name === 'namespace') continue; // a label Kubernetes scrapes add; none here
      const values = await prometheus.labelValues(variable.label, substitute(variable.selector, variables));
      expect(values, `${variable.dashboard}: $${variable.name}`).toEqual(
        expect.arrayContaining(variable.name === 'deal' ? [dealId] : ['ticketing', 'payment', 'admission']),
      );
    }
  });

  it('shows the sale as it happened', async () => {
    if (!prometheus) throw new Error('no Prometheus');
    const value = async (expr: string) => Number((await prometheus?.query(expr))?.[0]?.value[1]);
    expect(await value(`max(quickdeal_stock_sold_units{deal="${dealId}"})`)).toBe(6);
    expect(await value(`max(quickdeal_stock_units{deal="${dealId}"})`)).toBe(6);
    expect(await value(`sum(quickdeal_admissions_total{deal="${dealId}"})`)).toBe(8);
    expect(await value(`sum(quickdeal_tickets_skipped_total{deal="${dealId}", reason="expired"})`)).toBe(3);
    expect(await value(`sum(quickdeal_orders_total{deal="${dealId}", result="paid"})`)).toBe(6);
    expect(await value(`sum(quickdeal_checkouts_expired_total{deal="${dealId}"})`)).toBe(1);
    expect(await value(`sum(quickdeal_checkouts_cancelled_total{deal="${dealId}"})`)).toBe(1);
    expect(await value(`sum(quickdeal_admission_blocks_total{deal="${dealId}", reason="paused"})`)).toBeGreaterThan(0);
  });

  it('evaluates every alert expression, and the oversell, stall and sweeper alerts stay quiet', async () => {
    if (!prometheus) throw new Error('no Prometheus');
    for (const rule of alertRules()) {
      const result = await prometheus.query(rule.expr);
      if (['QuickDealOversold', 'QuickDealQueueStalled', 'QuickDealCheckoutSweeperNotRunning'].includes(rule.alert)) {
        expect(
          result.filter((series) => series.metric.deal === undefined || series.metric.deal === dealId),
          rule.alert,
        ).toEqual([]);
      }
    }
  });

  it('passes the chart’s `helm test` script against the running services', async () => {
    const { objects } = await render(cluster, { valuesFile: 'default-values.yaml' });
    const [container] = one(objects, 'Pod').spec.containers;
    const [command, ...args] = container.command as string[];
    expect(command).toBe('node');
    const checks = [...components.map((component) => `${urls[component]}/readyz`), `${urls.ticketing}/.well-known/jwks.json`];
    const passing = startProcess(process.execPath, args, { URLS: JSON.stringify(checks) });
    expect(await passing.exited, passing.output()).toBe(0);
    expect(
      passing
        .output()
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('ok ')),
    ).toHaveLength(checks.length);
    const failing = startProcess(process.execPath, args, { URLS: JSON.stringify([`${urls.ticketing}/nowhere`]) });
    expect(await failing.exited, failing.output()).toBe(1);
  });
});
