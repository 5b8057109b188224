/**
 * A whole waiting room in one process, against the real Kafka, Redis and Postgres of the `test`
 * profile: ticketing and payment apps (called through Hono's app.request), an admission consumer
 * and the checkout sweeper. Each instance has its own topic prefix and consumer group, so test
 * files running side by side never read each other's lines.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Kysely } from 'kysely';
import { AdmissionConsumer, type AdmissionOptions } from '@quickdeal/admission';
import {
  DealCache,
  DealRegistry,
  DealStore,
  TicketKeyring,
  TicketSigner,
  TicketVerifier,
  connectDatabase,
  connectRedis,
  redisTopologyFromEnv,
  createKafka,
  createLogger,
  createMetrics,
  migrateToLatest,
  quickDealSpecSchema,
  type Clock,
  type Database,
  type QuickDealSpecInput,
  type RedisClient,
} from '@quickdeal/core';
import { CheckoutSweeper, OrderBook, TestPaymentProvider, createApp as createPaymentApp } from '@quickdeal/payment';
import { Door, RateLimits, TicketProducer, TicketQueue, createApp as createTicketingApp } from '@quickdeal/ticketing';
import { endpoints, type ProfileName } from '../profiles.js';

export interface WaitingRoomOptions {
  profile?: ProfileName;
  redisUrl?: string;
  kafkaBrokers?: string[];
  dealRefreshMs?: number;
  sweepIntervalMs?: number;
  admissionBatchSize?: number;
  backoffMs?: number;
  paymentLeaseMs?: number;
  providerTimeoutMs?: number;
  ticketsPerShopperPerMinute?: number;
  pollsPerShopperPer10s?: number;
  requestsPerClientPerSecond?: number;
  /** Ticket requests in progress at once before the rest are asked to come back (0: no limit). */
  maxTicketsInProgress?: number;
  clock?: Clock;
  startAdmission?: boolean;
}

export type WaitingRoom = Awaited<ReturnType<typeof startWaitingRoom>>;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function startWaitingRoom(options: WaitingRoomOptions = {}) {
  const stack = endpoints(options.profile ?? 'test');
  const redisTopology = redisTopologyFromEnv(options.redisUrl ? { REDIS_URL: options.redisUrl } : stack.redisEnv);
  const brokers = options.kafkaBrokers ?? stack.kafkaBrokers;
  const id = randomBytes(4).toString('hex');
  const topicPrefix = `qdtest.${id}.`;
  const logger = createLogger(`test-${id}`, process.env.TEST_LOG_LEVEL ?? 'silent');
  const connections: RedisClient[] = [];
  const redisClient = (role: 'commands' | 'subscriber' = 'commands') => {
    const client = connectRedis(redisTopology, role);
    client.on('error', () => undefined);
    connections.push(client);
    return client;
  };
  const redis = redisClient();
  const store = new DealStore(redis);
  const kafka = createKafka({ brokers, clientId: `test-${id}`, logger });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } });
  await producer.connect();
  const ticketProducer = new TicketProducer(kafka, { maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 } }, logger);
  await ticketProducer.connect();
  const db: Kysely<Database> = connectDatabase(stack.postgresUrl, { maxConnections: 5 });
  await migrateToLatest(db);
  const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
  const clock = options.clock;

  const ticketingMetrics = createMetrics('ticketing');
  const cache = new DealCache(store, redisClient('subscriber'), { refreshMs: options.dealRefreshMs ?? 100, logger, ...(clock ? { clock } : {}) });
  await cache.start();
  const queue = new TicketQueue(ticketProducer, { metrics: ticketingMetrics });
  const ticketing = createTicketingApp({
    store,
    cache,
    queue,
    signer: new TicketSigner(keyring),
    verifier: new TicketVerifier(keyring, clock ? { clock } : {}),
    keyring,
    limits: new RateLimits({
      ticketsPerShopperPerMinute: options.ticketsPerShopperPerMinute ?? 1_000,
      pollsPerShopperPer10s: options.pollsPerShopperPer10s ?? 10_000,
      requestsPerClientPerSecond: options.requestsPerClientPerSecond ?? 0,
    }, redis),
    metrics: ticketingMetrics,
    logger,
    topicPrefix,
    trustProxy: true,
    door: new Door(options.maxTicketsInProgress ?? 0),
    ...(clock ? { clock } : {}),
    readiness: async () => ({ redis: true }),
  });

  const paymentMetrics = createMetrics('payment');
  const orders = new OrderBook(db);
  const provider = new TestPaymentProvider('approve');
  const payment = createPaymentApp({
    store,
    orders,
    provider,
    verifier: new TicketVerifier(keyring, clock ? { clock } : {}),
    metrics: paymentMetrics,
    logger,
    paymentLeaseMs: options.paymentLeaseMs ?? 30_000,
    providerTimeoutMs: options.providerTimeoutMs ?? 2_000,
    ...(clock ? { clock } : {}),
    readiness: async () => ({ redis: true }),
  });
  const deals: string[] = [];
  // Sweeps only this room's deals, so its metrics count only what it did.
  const sweeper = new CheckoutSweeper({ store, orders, metrics: paymentMetrics, logger, dealIds: async () => [...deals], ...(clock ? { clock } : {}) }, options.sweepIntervalMs ?? 100);
  sweeper.start();

  const admissionMetrics = createMetrics('admission');
  const groupId = `qdtest-admission-${id}`;
  const newConsumer = (overrides: Partial<AdmissionOptions> = {}) =>
    new AdmissionConsumer(
      { kafka, store, subscriber: redisClient('subscriber'), metrics: admissionMetrics, logger, ...(clock ? { clock } : {}) },
      { groupId, topicPrefix, batchSize: options.admissionBatchSize ?? 500, backoffMs: options.backoffMs ?? 300, topicRefreshMs: 500, concurrentDeals: 4, ...overrides },
    );
  let consumer: AdmissionConsumer | undefined;
  if (options.startAdmission !== false) {
    consumer = newConsumer();
    await consumer.start();
  }

  const registry = new DealRegistry({ db, store, admin, topicPrefix, topicSettings: stack.topicSettings, ...(clock ? { clock } : {}) });

  const json = async (response: Response) => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const headers = (shopperId: string, ticket?: string, extra: Record<string, string> = {}) => ({
    'X-User-Id': shopperId,
    ...(ticket ? { Authorization: `Bearer ${ticket}` } : {}),
    ...extra,
  });

  const room = {
    id,
    topicPrefix,
    groupId,
    redis,
    store,
    kafka,
    admin,
    producer: producer as Producer,
    db,
    keyring,
    registry,
    ticketing,
    payment,
    provider,
    sweeper,
    orders,
    metrics: { ticketing: ticketingMetrics, payment: paymentMetrics, admission: admissionMetrics },
    get consumer() {
      return consumer;
    },
    /** A consumer of this room's deal topics that the caller starts and stops itself. */
    newAdmissionConsumer: newConsumer,
    /** Applies a deal with a unique id (opened a minute ago unless said otherwise). */
    async createDeal(spec: Partial<QuickDealSpecInput> & { stock: number }, dealId = uniqueName('deal')) {
      const parsed = quickDealSpecSchema.parse({
        product: { name: 'Test Phone 256GB', price: 1_550_000, currency: 'KRW' },
        opensAt: new Date(Date.now() - 60_000).toISOString(),
        ...spec,
      });
      deals.push(dealId);
      const applied = await registry.apply(dealId, parsed);
      return { dealId, applied, spec: parsed };
    },
    async takeTicket(dealId: string, shopperId: string, init: { headers?: Record<string, string> } = {}) {
      return json(await ticketing.request(`/api/v1/deals/${dealId}/tickets`, { method: 'POST', headers: { ...headers(shopperId), ...init.headers } }));
    },
    async status(dealId: string, shopperId: string, ticket: string) {
      return json(await ticketing.request(`/api/v1/deals/${dealId}/tickets/status`, { headers: headers(shopperId, ticket) }));
    },
    async checkout(dealId: string, shopperId: string, ticket: string) {
      return json(await payment.request(`/api/v1/deals/${dealId}/checkout`, { headers: headers(shopperId, ticket) }));
    },
    async pay(dealId: string, shopperId: string, ticket: string, idempotencyKey = uniqueName('pay'), paymentToken?: string) {
      return json(
        await payment.request(`/api/v1/deals/${dealId}/orders`, {
          method: 'POST',
          headers: headers(shopperId, ticket, { 'Idempotency-Key': idempotencyKey, 'Content-Type': 'application/json' }),
          body: JSON.stringify(paymentToken ? { paymentMethod: { token: paymentToken } } : {}),
        }),
      );
    },
    async cancel(dealId: string, shopperId: string, ticket: string) {
      return json(await payment.request(`/api/v1/deals/${dealId}/checkout`, { method: 'DELETE', headers: headers(shopperId, ticket) }));
    },
    /** Polls until `check` passes or the time is up; returns the last value. */
    async waitFor<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 15_000, everyMs = 50): Promise<T> {
      const until = Date.now() + timeoutMs;
      let value = await read();
      while (!check(value) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, everyMs));
        value = await read();
      }
      if (!check(value)) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
      return value;
    },
    async startAdmission() {
      consumer = newConsumer();
      await consumer.start();
      return consumer;
    },
    async stopAdmission() {
      await consumer?.stop();
      consumer = undefined;
    },
    async close() {
      await consumer?.stop().catch(() => undefined);
      await sweeper.stop();
      await cache.stop().catch(() => undefined);
      await queue.drain().catch(() => undefined);
      await ticketProducer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      for (const dealId of deals) await store.removeDeal(dealId).catch(() => undefined);
      const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.destroy();
      for (const connection of connections) connection.disconnect();
    },
  };
  return room;
}

export type { Kafka };
