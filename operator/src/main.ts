/**
 * The operator process: the only place that reads configuration and connects to Kubernetes,
 * Redis, Postgres and Kafka. Serves /healthz, /readyz and /metrics; on SIGTERM it stops the
 * controller (reconciles in flight finish), releases the Lease so another replica takes over at
 * once, and closes its connections.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { sql } from 'kysely';
import { createLogger, parseConfig, redisAnswers, redisTopology, runService, startService, type RunningService } from '@quickdeal/core';
import { operatorConfigSchema, operatorOptionsFrom } from './config.js';
import { createOperatorMetrics } from './metrics.js';
import { Operator } from './operator.js';
import { createProbeApp } from './probes.js';
import { connectDealRegistry } from './registry-connection.js';

const logger = createLogger('operator');

async function main() {
  const config = parseConfig(operatorConfigSchema, process.env);
  logger.level = config.LOG_LEVEL;
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
  const operator = new Operator({ kubeConfig, registry: connection.registry, metrics, logger }, operatorOptionsFrom(config));

  let running: RunningService | undefined;
  const app = createProbeApp({
    registry: metrics.registry,
    healthy: () => operator.isHealthy(),
    leader: () => operator.isLeader(),
    isShuttingDown: () => running?.isShuttingDown() ?? false,
    readiness: async () => ({
      redis: await redisAnswers(connection.redis),
      postgres: await sql`select 1`.execute(connection.db).then(() => true, () => false),
    }),
  });
  running = await runService({
    app,
    config,
    logger,
    onShutdown: async () => {
      await operator.stop({ release: true });
      await connection.close();
    },
  });
  await operator.start();
  logger.info({ identity: config.identity, leaderElection: config.LEADER_ELECT, watch: config.WATCH_NAMESPACE ?? '(all namespaces)' }, 'operator started');
}

startService('operator', logger, main);
