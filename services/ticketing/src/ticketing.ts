import { randomBytes } from 'node:crypto';
import {
  shopperIdentityFromConfig,
  DealCache,
  DealStore,
  TicketSigner,
  TicketVerifier,
  connectRedis,
  redisTopology,
  createLogger,
  nodeRoutes,
  redisAnswers,
  type BuiltService,
  type ServiceOverrides,
  type TicketKeyring,
} from '@quickdeal/core';
import { createApp, shopperRoutes, type TicketingDeps } from './app.js';
import type { TicketingConfig } from './config.js';
import { Door } from './door.js';
import { registerLineGauge } from './line-gauge.js';
import { createTicketingMetrics, type TicketingMetrics } from './metrics.js';
import { PrequeueDraw, type DrawFaults, type DrawOptions } from './prequeue-draw.js';
import { PrequeueTickets } from './prequeue-ticket.js';
import { ProofOfWork } from './proof-of-work.js';
import { RateLimits } from './rate-limits.js';
import { TicketProducer, platformaticProducer, type ProducerRetry } from './ticket-producer.js';
import { TicketIssuer } from './ticket-issuer.js';

export interface TicketingOverrides extends ServiceOverrides {
  /** The keys that sign and verify tickets (main.ts loads them from the environment). */
  keyring: TicketKeyring;
  /** How the ticket producer retries a failed send. */
  producerRetry?: ProducerRetry;
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
  issuer: TicketIssuer;
  /** The idempotent producer the tickets and the draw go out on. */
  producer: TicketProducer;
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
  const redis = connectRedis(redisTopology(config));
  const subscriber = connectRedis(redisTopology(config), 'subscriber');
  const producer = new TicketProducer(
    () =>
      platformaticProducer({
        brokers: config.KAFKA_BROKERS,
        clientId: `${config.KAFKA_CLIENT_ID}-ticketing`,
        retry: overrides.producerRetry,
      }),
    logger,
  );
  await producer.connect();

  const metrics = createTicketingMetrics();
  const store = new DealStore(redis, {
    replicaWait: {
      replicas: config.REDIS_WAIT_REPLICAS,
      timeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
      onShortfall: (write) => metrics.unreplicatedWrites.inc({ write }),
    },
  });
  registerLineGauge(metrics.registry, { store, logger });
  const cache = new DealCache(store, subscriber, { refreshMs: config.DEAL_REFRESH_MS, logger, clock });
  let cacheStarted = false;
  const keyring = overrides.keyring;
  const signer = new TicketSigner(keyring);
  const limits = new RateLimits(
    {
      ticketsPerShopperPerMinute: config.TICKETS_PER_SHOPPER_PER_MINUTE,
      pollsPerShopperPer10s: config.POLLS_PER_SHOPPER_PER_10S,
      requestsPerClientPerSecond: config.REQUESTS_PER_CLIENT_PER_SECOND,
    },
    clock,
  );
  const issuer = new TicketIssuer(store, producer, signer, {
    askLimit: limits.asksPerShopper,
    lingerMs: config.PRODUCE_LINGER_MS,
    maxBatch: config.PRODUCE_MAX_BATCH,
    metrics,
    onProduceFailure: (error) => logger.warn({ err: error }, 'a batch of tickets could not be queued; every ticket of it is answered 503'),
  });
  const draw =
    overrides.draw === false
      ? undefined
      : new PrequeueDraw(
          {
            store,
            producer,
            topicPrefix: config.KAFKA_TOPIC_PREFIX,
            logger,
            metrics,
            faults: overrides.drawFaults,
            dealIds: overrides.drawnDealIds,
          },
          { intervalMs: 250, leaseMs: 10_000, batchSize: 1_000, ...overrides.draw },
        );
  const deps: TicketingDeps = {
    store,
    cache,
    issuer,
    signer,
    prequeueTickets: new PrequeueTickets(keyring),
    proofOfWork: new ProofOfWork(config.PROOF_OF_WORK_SECRET ?? randomBytes(32).toString('hex'), store, metrics.proofOfWorkVerifications),
    verifier: new TicketVerifier(keyring, { cacheSize: config.VERIFIED_TICKET_CACHE_SIZE, clock }),
    keyring,
    limits,
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
  };
  // One instance of each shopper route, for the app (its Hono twin) and the server's node routes.
  const routes = shopperRoutes(deps);
  const app = createApp(deps, routes);

  return {
    app,
    nodeRoutes: nodeRoutes(deps, routes),
    store,
    cache,
    issuer,
    producer,
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
        await issuer.drain();
        await producer.disconnect();
      } finally {
        await cache.stop();
        subscriber.disconnect();
        await redis.quit();
      }
    },
  };
}
