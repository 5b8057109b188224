import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { sql } from 'kysely';
import { redisAnswers, redisTopology, type ComposedService, type Logger, type ServingState } from '@quickdeal/core';
import { operatorOptionsFrom, type OperatorConfig } from './config.js';
import { createOperatorMetrics } from './metrics.js';
import { Operator } from './operator.js';
import { createProbeApp } from './probes.js';
import { connectDealRegistry, type RegistryConnection } from './registry-connection.js';

/**
 * The operator process, wired from its configuration: connects to Kubernetes and (lazily) to Redis,
 * Postgres and Kafka, and serves /healthz, /readyz and /metrics. A server that is down at start
 * does not stop it: it leads, and the deals' conditions and /readyz say which server is out of
 * reach until it answers. It runs no migrations (the chart's hook Job does: `main.ts migrate`).
 * `start` starts the controller (and the election); `stop` lets reconciles in flight finish,
 * releases the Lease so another replica takes over at once, and closes the connections.
 */
export async function createOperatorService(config: OperatorConfig, parts: { logger: Logger } & ServingState): Promise<ComposedService> {
  const { logger } = parts;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, or the Pod's ServiceAccount
  const metrics = createOperatorMetrics({ processMetrics: true });
  const connection = await connectDealRegistry({
    redis: redisTopology(config),
    postgresUrl: config.DATABASE_URL,
    kafkaBrokers: config.KAFKA_BROKERS,
    kafkaClientId: config.KAFKA_CLIENT_ID,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topicSettings: { replicationFactor: config.KAFKA_REPLICATION_FACTOR, minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS },
    logger,
    connect: 'lazily',
  });
  const operator = new Operator(
    {
      kubeConfig,
      registry: connection.registry,
      metrics,
      logger,
      schemaReady: () => connection.schemaReady(),
      // As controller-runtime's manager: a lost Lease ends the process at once (reconciles in flight
      // included); the Pod restarts as a follower.
      onLostLeadership: () => {
        logger.fatal('leader election lost; exiting');
        process.exit(1);
      },
    },
    operatorOptionsFrom(config),
  );
  const app = createProbeApp({
    registry: metrics.registry,
    healthy: () => operator.isHealthy(),
    leader: () => operator.isLeader(),
    isShuttingDown: parts.isShuttingDown,
    readiness: () => dependencyChecks(connection),
  });
  return {
    app,
    async start() {
      await operator.start();
      logger.info(
        { identity: config.identity, leaderElection: config.LEADER_ELECT, watch: config.WATCH_NAMESPACE ?? '(all namespaces)' },
        'operator started',
      );
    },
    async stop() {
      await operator.stop({ release: true });
      await connection.close();
    },
  };
}

/** Whether each server answers, within `timeoutMs` (the probe's own timeout is 3 s); `schema`: Postgres holds every migration. */
async function dependencyChecks(connection: RegistryConnection, timeoutMs = 2_000): Promise<Record<string, boolean>> {
  const answers = (check: Promise<unknown>) =>
    Promise.race([check.then(() => true), sleep(timeoutMs, false, { ref: false })]).catch(() => false);
  const [redis, postgres, schema, kafka] = await Promise.all([
    answers(redisAnswers(connection.redis).then((ok) => ok || Promise.reject(new Error('no PONG')))),
    answers(sql`select 1`.execute(connection.db)),
    answers(connection.schemaReady()),
    answers(connection.admin.describeCluster()),
  ]);
  return { redis, postgres, schema, kafka };
}
