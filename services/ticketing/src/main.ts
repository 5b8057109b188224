import {
  connectRedis,
  redisTopology,
  redisAnswers,
  DealCache,
  DealStore,
  TicketSigner,
  TicketVerifier,
  createKafka,
  createLogger,
  createMetrics,
  loadServiceKeyring,
  parseConfig,
  runService,
  startService,
} from '@quickdeal/core';
import { createApp } from './app.js';
import { ticketingConfigSchema } from './config.js';
import { Door } from './door.js';
import { RateLimits } from './rate-limits.js';
import { TicketProducer } from './ticket-producer.js';
import { TicketQueue } from './ticket-queue.js';

const logger = createLogger('ticketing');

async function main() {
  const config = parseConfig(ticketingConfigSchema, process.env);
  logger.level = config.LOG_LEVEL;
  const keyring = await loadServiceKeyring(process.env, logger);

  const redis = connectRedis(redisTopology(config));
  const subscriber = connectRedis(redisTopology(config), 'subscriber');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-ticketing`, logger });
  const producer = new TicketProducer(kafka, { maxInFlightRequests: 1, retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } }, logger);
  await producer.connect();

  const metrics = createMetrics('ticketing');
  const store = new DealStore(redis);
  const cache = new DealCache(store, subscriber, { refreshMs: config.DEAL_REFRESH_MS, logger });
  let cacheStarted = false;
  const queue = new TicketQueue(producer, { lingerMs: config.PRODUCE_LINGER_MS, maxBatch: config.PRODUCE_MAX_BATCH, metrics });

  let running: Awaited<ReturnType<typeof runService>> | undefined;
  const app = createApp({
    store,
    cache,
    queue,
    signer: new TicketSigner(keyring),
    verifier: new TicketVerifier(keyring, { cacheSize: config.VERIFIED_TICKET_CACHE_SIZE }),
    keyring,
    limits: new RateLimits({
      ticketsPerShopperPerMinute: config.TICKETS_PER_SHOPPER_PER_MINUTE,
      pollsPerShopperPer10s: config.POLLS_PER_SHOPPER_PER_10S,
      requestsPerClientPerSecond: config.REQUESTS_PER_CLIENT_PER_SECOND,
    }, redis),
    metrics,
    logger,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    door: new Door(config.MAX_TICKETS_IN_PROGRESS),
    trustProxy: config.TRUST_PROXY,
    readiness: async () => ({ redis: cacheStarted && (await redisAnswers(redis)), kafka: producer.isReady() }),
    isShuttingDown: () => running?.isShuttingDown() ?? false,
  });

  running = await runService({
    app,
    config,
    logger,
    onShutdown: async () => {
      await queue.drain();
      await producer.disconnect();
      await cache.stop();
      subscriber.disconnect();
      await redis.quit();
    },
  });
  // Listening comes first, so probes answer (not ready) while Redis is still out of reach.
  await cache.start();
  cacheStarted = true;
}

startService('ticketing', logger, main);
