import { DealStore, connectRedis, redisTopology, createKafka, createLogger, createMetrics, parseConfig, redisAnswers, runService, startService } from '@quickdeal/core';
import { AdmissionConsumer } from './admission-consumer.js';
import { createApp } from './app.js';
import { admissionConfigSchema } from './config.js';
import { installDealGauges } from './deal-gauges.js';

const logger = createLogger('admission');

async function main() {
  const config = parseConfig(admissionConfigSchema, process.env);
  logger.level = config.LOG_LEVEL;
  const redis = connectRedis(redisTopology(config));
  const subscriber = connectRedis(redisTopology(config), 'subscriber');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-admission`, logger });
  const metrics = createMetrics('admission');
  const store = new DealStore(redis);
  const consumer = new AdmissionConsumer(
    { kafka, store, subscriber, metrics, logger },
    {
      groupId: config.ADMISSION_GROUP_ID,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      batchSize: config.ADMISSION_BATCH_SIZE,
      backoffMs: config.ADMISSION_BACKOFF_MS,
      topicRefreshMs: config.TOPIC_REFRESH_MS,
      concurrentDeals: config.CONCURRENT_DEALS,
    },
  );
  installDealGauges({ metrics, store, consumer, logger });
  let running: Awaited<ReturnType<typeof runService>> | undefined;
  const app = createApp({
    metrics,
    logger,
    readiness: async () => ({ redis: (await redisAnswers(redis)), consumer: consumer.isRunning() }),
    isShuttingDown: () => running?.isShuttingDown() ?? false,
  });
  running = await runService({
    app,
    config,
    logger,
    onShutdown: async () => {
      await consumer.stop();
      subscriber.disconnect();
      await redis.quit();
    },
  });
  await consumer.start();
}

startService('admission', logger, main);
