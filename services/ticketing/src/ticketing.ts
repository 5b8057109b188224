import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RetryOptions } from 'kafkajs';
import {
  shopperIdentityFromConfig,
  DealCache,
  DealStore,
  TicketSigner,
  TicketVerifier,
  connectRedis,
  createKafka,
  createLogger,
  redisAnswers,
  type BuiltService,
  type ServiceOverrides,
  type TicketKeyring,
} from '@quickdeal/core';
import { createApp } from './app.js';
import type { TicketingConfig } from './config.js';
import { Door } from './door.js';
import { createTicketingMetrics, type TicketingMetrics } from './metrics.js';
import { PrequeueDraw, type DrawFaults, type DrawOptions } from './prequeue-draw.js';
import { PrequeueTickets } from './prequeue-ticket.js';
import { ProofOfWork } from './proof-of-work.js';
import { RateLimits } from './rate-limits.js';
import { TicketProducer } from './ticket-producer.js';
import { TicketQueue } from './ticket-queue.js';

export interface TicketingOverrides extends ServiceOverrides {
  /** The keys that sign and verify tickets (main.ts loads them from the environment). */
  keyring: TicketKeyring;
  /** How the ticket producer retries a failed send. */
  producerRetry?: RetryOptions;
  /** The pre-queue draw's timing (tests), or false for none in this process. */
  draw?: Partial<DrawOptions> | false;
  drawFaults?: DrawFaults;
  /** The deals this process draws (every deal unless said otherwise: tests sharing a Redis keep to their own). */
  drawnDealIds?: () => Promise<string[]>;
}

/** The ticketing service, and the parts tests look into. */
export interface Ticketing extends BuiltService {
  store: DealStore;
  cache: DealCache;
  queue: TicketQueue;
  metrics: TicketingMetrics;
  draw: PrequeueDraw | undefined;
}

/**
 * The ticketing service, wired from its configuration: connects to Redis and Kafka (the producer
 * connects before this returns), builds the deal cache, the ticket queue and the app.
 * `start` follows the deals' changes; `stop` sends what is queued and closes the connections.
 */
export async function createTicketing(config: TicketingConfig, overrides: TicketingOverrides): Promise<Ticketing> {
  const logger = overrides.logger ?? createLogger('ticketing', config.LOG_LEVEL);
  const clock = overrides.clock;
  const redis = connectRedis(config.REDIS_URL);
  const subscriber = new Redis(config.REDIS_URL);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-ticketing`, logger });
  const producer = new TicketProducer(
    kafka,
    { maxInFlightRequests: 1, retry: overrides.producerRetry ?? { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 } },
    logger,
  );
  await producer.connect();

  const metrics = createTicketingMetrics();
  const store = new DealStore(redis);
  const cache = new DealCache(store, subscriber, { refreshMs: config.DEAL_REFRESH_MS, logger, clock });
  let cacheStarted = false;
  const queue = new TicketQueue(producer, { lingerMs: config.PRODUCE_LINGER_MS, maxBatch: config.PRODUCE_MAX_BATCH, metrics });
  const keyring = overrides.keyring;
  const draw =
    overrides.draw === false
      ? undefined
      : new PrequeueDraw(
          {
            store,
            queue,
            topicPrefix: config.KAFKA_TOPIC_PREFIX,
            logger,
            metrics,
            faults: overrides.drawFaults,
            dealIds: overrides.drawnDealIds,
          },
          { intervalMs: 250, leaseMs: 10_000, batchSize: 1_000, ...overrides.draw },
        );
  const app = createApp({
    store,
    cache,
    queue,
    signer: new TicketSigner(keyring),
    prequeueTickets: new PrequeueTickets(keyring),
    proofOfWork: new ProofOfWork(config.PROOF_OF_WORK_SECRET ?? randomBytes(32).toString('hex'), store),
    verifier: new TicketVerifier(keyring, { cacheSize: config.VERIFIED_TICKET_CACHE_SIZE, clock }),
    keyring,
    limits: new RateLimits({
      ticketsPerShopperPerMinute: config.TICKETS_PER_SHOPPER_PER_MINUTE,
      pollsPerShopperPer10s: config.POLLS_PER_SHOPPER_PER_10S,
      requestsPerClientPerSecond: config.REQUESTS_PER_CLIENT_PER_SECOND,
    }),
    metrics,
    logger,
    identity: overrides.identity ?? shopperIdentityFromConfig(config, { clock }),
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    door: new Door(config.MAX_TICKETS_IN_PROGRESS),
    trustProxy: config.TRUST_PROXY,
    pagesShopperIdInput: config.PAGES_SHOPPER_ID_INPUT,
    clock,
    readiness: async () => ({ redis: cacheStarted && (await redisAnswers(redis)), kafka: producer.isReady() }),
    isShuttingDown: overrides.isShuttingDown,
  });

  return {
    app,
    store,
    cache,
    queue,
    metrics,
    draw,
    async start() {
      await cache.start();
      cacheStarted = true;
      draw?.start();
    },
    async stop() {
      try {
        await draw?.stop();
        await queue.drain();
        await producer.disconnect();
      } finally {
        await cache.stop();
        subscriber.disconnect();
        await redis.quit();
      }
    },
  };
}
