/**
 * Fenced leadership against the real API server: renewals never wait on the leader's own work, a
 * released Lease taken over counts as a transition (as client-go counts it), a leader whose Lease
 * is stolen in the middle of a reconcile takes no further step, and the operator process exits
 * the moment it loses the Lease (as controller-runtime's manager does).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, type DealRegistry } from '@quickdeal/core';
import {
  LeaderElector,
  Operator,
  connectDealRegistry,
  createOperatorMetrics,
  group,
  plural,
  version,
  type LeaderElectionOptions,
  type QuickDeal,
  type RegistryConnection,
} from '@quickdeal/operator';
import { endpoints } from '@quickdeal/dev/profiles';
import { eventually, freePort, metricValue, nodeEntry, startProcess, uniqueName, waitForHttp } from '@quickdeal/dev/testing';
import {
  createQuickDeal,
  deleteNamespace,
  eventsOf,
  patchSpec,
  quickDeal,
  setUpTestNamespace,
  type Clients,
} from '@quickdeal/dev/testing/kubernetes';

const cluster = inject('kubernetes');
const logger = createLogger('fenced-leadership-test', process.env.TEST_LOG_LEVEL ?? 'silent');
const topicPrefix = `qdtest.${uniqueName('fence').replace(/-/g, '')}.`;
const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };
let api: Clients;
let namespace: string;
let connection: RegistryConnection;

beforeAll(async () => {
  ({ api, namespace } = await setUpTestNamespace(cluster, 'qd-fence'));
  const stack = endpoints('test');
  connection = await connectDealRegistry({
    redis: stack.redisUrl,
    postgresUrl: stack.postgresUrl,
    kafkaBrokers: stack.kafkaBrokers,
    topicPrefix,
  });
});

afterAll(async () => {
  if (namespace) await deleteNamespace(api, namespace);
  if (connection) {
    const topics = (await connection.admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
    if (topics.length > 0) await connection.admin.deleteTopics({ topics });
    await connection.close();
  }
});

const leaseOf = async (name: string) => (await api.coordination.readNamespacedLease({ name, namespace })).spec ?? {};
const renewedAt = async (name: string) => new Date(String((await leaseOf(name)).renewTime)).getTime();

function elector(leaseName: string, identity: string, onStartedLeading: () => Promise<void> | void = () => undefined) {
  const options: LeaderElectionOptions = { namespace, name: leaseName, identity, ...timings };
  return new LeaderElector(api.coordination, options, { onStartedLeading, onStoppedLeading: () => undefined }, logger);
}

/** Another process takes the Lease for a minute, as a second operator with a skewed clock or a human might. */
async function stealLease(name: string, thief: string): Promise<void> {
  await eventually(
    'the Lease to be stolen',
    async () => {
      const lease = await api.coordination.readNamespacedLease({ name, namespace });
      const now = new V1MicroTime(Date.now());
      const spec = { ...lease.spec, holderIdentity: thief, leaseDurationSeconds: 60, acquireTime: now, renewTime: now };
      return api.coordination.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } }).then(
        () => true,
        () => undefined, // a renewal came in between (409): read again
      );
    },
    5_000,
  );
}

describe('fenced leadership', () => {
  it('keeps renewing the Lease while the start callback is still running', async () => {
    const leaseName = uniqueName('slow-start');
    let started = false;
    const candidate = elector(leaseName, 'slow-starter', () => {
      started = true;
      return new Promise<void>(() => undefined); // a LIST that never answers
    });
    candidate.start();
    try {
      await eventually('the start callback to run', async () => (started ? true : undefined), 10_000);
      const first = await renewedAt(leaseName);
      await sleep(timings.renewDeadlineMs + 500);
      expect(await renewedAt(leaseName)).toBeGreaterThan(first);
      expect(candidate.holdsLease()).toBe(true);
    } finally {
      await candidate.stop({ release: true });
    }
  });

  it('counts taking a released Lease as a transition', async () => {
    const leaseName = uniqueName('released');
    const first = elector(leaseName, 'first');
    first.start();
    await eventually('the first to lead', async () => (first.isLeader() ? true : undefined), 10_000);
    expect((await leaseOf(leaseName)).leaseTransitions).toBe(0);
    await first.stop({ release: true });
    expect((await leaseOf(leaseName)).holderIdentity ?? '').toBe('');

    const second = elector(leaseName, 'second');
    second.start();
    try {
      await eventually('the second to lead', async () => (second.isLeader() ? true : undefined), 10_000);
      expect(await leaseOf(leaseName)).toMatchObject({ holderIdentity: 'second', leaseTransitions: 1 });
    } finally {
      await second.stop({ release: true });
    }
  });

  it('a leader whose Lease is stolen mid-reconcile stops at once and writes nothing more', async () => {
    const leaseName = uniqueName('stolen');
    const identity = 'fenced-leader';
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const applied: string[] = [];
    // The real registry, with a slow apply: the reconcile is in flight when the Lease goes.
    const registry = Object.assign(Object.create(connection.registry) as DealRegistry, {
      apply: async (...args: Parameters<DealRegistry['apply']>) => {
        applied.push(args[0]);
        await gate;
        return connection.registry.apply(...args);
      },
    });
    let lostAt: number | undefined;
    let actingWhenLost: boolean | undefined;
    const metrics = createOperatorMetrics();
    // Roomier deadlines than the others: a slow renewal on a loaded machine must not be the loss this test sees.
    const roomy = { leaseDurationMs: 8_000, renewDeadlineMs: 6_000, retryPeriodMs: 300 };
    const operator: Operator = new Operator(
      {
        kubeConfig: api.kc,
        registry,
        metrics,
        logger,
        onLostLeadership: () => {
          lostAt ??= Date.now();
          actingWhenLost ??= operator.mayAct();
        },
      },
      {
        identity,
        controller: { namespace, resyncMs: 60_000, workers: 1, backoff: { baseDelayMs: 100, maxDelayMs: 1_000 } },
        leaderElection: { namespace, name: leaseName, ...roomy },
      },
    );
    await operator.start();
    try {
      await eventually('the operator to lead', async () => (operator.mayAct() ? true : undefined), 10_000);
      const name = uniqueName('fenced');
      await createQuickDeal(api, namespace, quickDeal(name, { stock: 5 }));
      await eventually('the reconcile to reach the registry', async () => (applied.length > 0 ? true : undefined), 30_000);

      // The reconcile is stuck, yet the Lease is renewed.
      const before = await renewedAt(leaseName);
      await sleep(1_000);
      expect(await renewedAt(leaseName)).toBeGreaterThan(before);

      const stolenAt = Date.now();
      await stealLease(leaseName, 'thief');
      await eventually('the old leader to give up', async () => (lostAt !== undefined ? true : undefined), 10_000);
      // Seen at the next renewal (a retry period), not after the renew deadline; fenced at that moment.
      expect(lostAt! - stolenAt).toBeGreaterThanOrEqual(0);
      expect(lostAt! - stolenAt).toBeLessThan(roomy.renewDeadlineMs);
      expect(actingWhenLost).toBe(false);
      expect(operator.mayAct()).toBe(false);
      expect(metricValue(await metrics.registry.metrics(), 'quickdeal_operator_leader')).toBe(0);

      // The stuck step finishes (a write already sent cannot be recalled), but nothing follows it:
      // no status, no Events, and an edit is not applied.
      openGate();
      await sleep(1_500);
      await patchSpec(api, namespace, name, { stock: 9 });
      await sleep(1_500);
      const deal = (await api.custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as QuickDeal;
      expect(deal.status).toBeUndefined();
      expect((await eventsOf(api, namespace, name)).map((event) => event.reason)).toEqual([]);
      expect(applied).toEqual([name]);
      expect((await leaseOf(leaseName)).holderIdentity).toBe('thief');
    } finally {
      openGate();
      await operator.stop({ release: false });
    }
  });

  it('the operator process exits non-zero when its Lease is taken', async () => {
    const leaseName = uniqueName('process');
    const port = await freePort();
    const stack = endpoints('test');
    const [node, args] = nodeEntry('operator/src/main.ts');
    const operator = startProcess(node, args, {
      KUBECONFIG: cluster.kubeconfig,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: stack.redisUrl,
      DATABASE_URL: stack.postgresUrl,
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      POD_NAME: 'exiting-leader',
      POD_NAMESPACE: namespace,
      WATCH_NAMESPACE: namespace,
      LEASE_NAME: leaseName,
      LEASE_DURATION_SECONDS: '3',
      RENEW_DEADLINE_SECONDS: '2',
      RETRY_PERIOD_SECONDS: '0.3',
      LOG_LEVEL: 'warn',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, 'the operator to be ready', () => operator.child.exitCode === null, 120_000);
      await eventually(
        'the process to lead',
        async () => ((await leaseOf(leaseName).catch(() => undefined))?.holderIdentity === 'exiting-leader' ? true : undefined),
        15_000,
      );
      const stolenAt = Date.now();
      await stealLease(leaseName, 'thief');
      const code = await Promise.race([operator.exited, sleep(10_000).then(() => 'still running' as const)]);
      expect(code, operator.output()).toBe(1);
      expect(Date.now() - stolenAt).toBeLessThan(5_000);
      expect(operator.output()).toContain('leader election lost');
    } finally {
      if (operator.child.exitCode === null) operator.child.kill('SIGKILL');
      await operator.exited;
    }
  }, 180_000); // a process start under a loaded CI machine takes a while
});
