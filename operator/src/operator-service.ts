import { KubeConfig } from '@kubernetes/client-node';
import { sql } from 'kysely';
import { redisAnswers, redisTopology, type ComposedService, type Logger, type ServingState } from '@quickdeal/core';
import { operatorOptionsFrom, type OperatorConfig } from './config.js';
import { createOperatorMetrics } from './metrics.js';
import { Operator } from './operator.js';
import { createProbeApp } from './probes.js';
import { connectDealRegistry } from './registry-connection.js';

/**
 * The operator process, wired from its configuration: connects to Kubernetes, Redis, Postgres and
 * Kafka, and serves /healthz, /readyz and /metrics. `start` starts the controller (and the
 * election); `stop` lets reconciles in flight finish, releases the Lease so another replica takes
 * over at once, and closes the connections.
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
  });
  const operator = new Operator(
    {
      kubeConfig,
      registry: connection.registry,
      metrics,
      logger,
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
    readiness: async () => ({
      redis: await redisAnswers(connection.redis),
      postgres: await sql`select 1`.execute(connection.db).then(
        () => true,
        () => false,
      ),
    }),
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
