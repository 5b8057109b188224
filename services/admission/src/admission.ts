import {
  DealStore,
  connectRedis,
  redisTopology,
  createKafka,
  createLogger,
  redisAnswers,
  type BuiltService,
  type ServiceOverrides,
} from '@quickdeal/core';
import { AdmissionConsumer, type AdmissionOptions } from './admission-consumer.js';
import { createApp } from './app.js';
import type { AdmissionConfig } from './config.js';
import { registerDealGauges } from './deal-gauges.js';
import { createAdmissionMetrics, type AdmissionMetrics } from './metrics.js';

export interface AdmissionOverrides extends ServiceOverrides {
  /** Consumer settings beyond what the configuration allows (tests). */
  consumer?: Partial<AdmissionOptions>;
}

/** The admission service, and the parts tests look into. */
export interface Admission extends BuiltService {
  consumer: AdmissionConsumer;
  metrics: AdmissionMetrics;
}

/**
 * The admission service, wired from its configuration: the consumer that admits each deal's line,
 * the per-deal gauges read on scrape, and the app with the probes. `start` joins the consumer
 * group; `stop` leaves it and closes the connections.
 */
export function createAdmission(config: AdmissionConfig, overrides: AdmissionOverrides = {}): Admission {
  const logger = overrides.logger ?? createLogger('admission', config.LOG_LEVEL);
  const redis = connectRedis(redisTopology(config));
  const subscriber = connectRedis(redisTopology(config), 'subscriber');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-admission`, logger });
  const metrics = createAdmissionMetrics();
  const store = new DealStore(redis);
  const consumer = new AdmissionConsumer(
    { kafka, store, subscriber, metrics, logger, clock: overrides.clock },
    {
      groupId: config.ADMISSION_GROUP_ID,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      batchSize: config.ADMISSION_BATCH_SIZE,
      backoffMs: config.ADMISSION_BACKOFF_MS,
      topicRefreshMs: config.TOPIC_REFRESH_MS,
      concurrentDeals: config.CONCURRENT_DEALS,
      ...overrides.consumer,
    },
  );
  registerDealGauges(metrics.registry, { store, lag: () => consumer.lag(), logger });
  const app = createApp({
    metrics,
    logger,
    readiness: async () => ({ redis: await redisAnswers(redis), consumer: consumer.isRunning() }),
    isShuttingDown: overrides.isShuttingDown,
  });

  return {
    app,
    consumer,
    metrics,
    start: () => consumer.start(),
    async stop() {
      try {
        await consumer.stop();
      } finally {
        subscriber.disconnect();
        await redis.quit();
      }
    },
  };
}
