/**
 * A whole waiting room in one process, against the real Kafka, Redis and Postgres of the `test`
 * profile: ticketing and payment apps (called through Hono's app.request), an admission consumer
 * and the checkout sweeper. Each instance has its own topic prefix and consumer group, so test
 * files running side by side never read each other's lines.
 */
import { randomBytes } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Kysely } from 'kysely';
import { admissionConfigSchema, createAdmission, type Admission, type AdmissionOptions } from '@quickdeal/admission';
import {
  DealRegistry,
  DealStore,
  TicketKeyring,
  connectDatabase,
  connectRedis,
  redisTopologyFromEnv,
  createKafka,
  createLogger,
  headerIdentity,
  migrateToLatest,
  parseConfig,
  quickDealSpecSchema,
  type Clock,
  type Database,
  type QuickDealSpecInput,
  type ShopperIdentity,
} from '@quickdeal/core';
import { createApp as createPaymentApp, createPayment, paymentConfigSchema, type PaymentFaults } from '@quickdeal/payment';
import { createTicketing, ticketingConfigSchema, type TicketingOverrides } from '@quickdeal/ticketing';
import { endpoints, type ProfileName } from '../profiles.js';
import { uniqueName } from './names.js';

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
  /** Another Postgres (the fault profile's, to stop it mid-payment). */
  postgresUrl?: string;
  /** The test provider's ledger file, shared with payment processes a test starts (in memory when unset). */
  paymentLedgerFile?: string;
  /** How ticketing and payment know the shopper: X-User-Id (header mode) unless said otherwise. */
  identity?: ShopperIdentity;
  /** The headers that name a shopper on a request: `X-User-Id` unless said otherwise (a session token in token mode). */
  shopperHeaders?: (shopperId: string) => Record<string, string> | Promise<Record<string, string>>;
  /** Whether the pages offer "type a shopper id", as in the dev stack (yes unless said otherwise; header mode only). */
  pagesShopperIdInput?: boolean;
  /** Ticketing's pre-queue draw: its timing, or false for none (a test then draws with its own PrequeueDraw). */
  draw?: TicketingOverrides['draw'];
  drawFaults?: TicketingOverrides['drawFaults'];
}

export type WaitingRoom = Awaited<ReturnType<typeof startWaitingRoom>>;

export async function startWaitingRoom(options: WaitingRoomOptions = {}) {
  const stack = endpoints(options.profile ?? 'test');
  const redisEnv: Record<string, string> = options.redisUrl ? { REDIS_URL: options.redisUrl } : stack.redisEnv;
  const postgresUrl = options.postgresUrl ?? stack.postgresUrl;
  const brokers = options.kafkaBrokers ?? stack.kafkaBrokers;
  const id = randomBytes(4).toString('hex');
  const topicPrefix = `qdtest.${id}.`;
  const logger = createLogger(`test-${id}`, process.env.TEST_LOG_LEVEL ?? 'silent');
  const redis = connectRedis(redisTopologyFromEnv(redisEnv));
  redis.on('error', () => undefined);
  const store = new DealStore(redis);
  const kafka = createKafka({ brokers, clientId: `test-${id}`, logger });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  await producer.connect();
  const db: Kysely<Database> = connectDatabase(postgresUrl, { maxConnections: 5 });
  await migrateToLatest(db);
  const keyring = await TicketKeyring.create(await TicketKeyring.generateSigningJwk());
  const clock = options.clock;
  const identity = options.identity ?? headerIdentity();
  const shopperHeaders = options.shopperHeaders ?? ((shopperId: string) => ({ 'X-User-Id': shopperId }));
  const groupId = `qdtest-admission-${id}`;
  const deals: string[] = [];

  // The services as their mains build them, from configuration: this room's topics and group, and test limits beyond what an operator may set.
  const settings = {
    ...redisEnv,
    KAFKA_BROKERS: brokers.join(','),
    DATABASE_URL: postgresUrl,
    KAFKA_CLIENT_ID: `test-${id}`,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    PORT: '0',
  };
  const parts = { logger, keyring, clock, identity };
  const ticketing = await createTicketing(
    {
      ...parseConfig(ticketingConfigSchema, settings),
      DEAL_REFRESH_MS: options.dealRefreshMs ?? 100,
      TICKETS_PER_SHOPPER_PER_MINUTE: options.ticketsPerShopperPerMinute ?? 1_000,
      POLLS_PER_SHOPPER_PER_10S: options.pollsPerShopperPer10s ?? 10_000,
      REQUESTS_PER_CLIENT_PER_SECOND: options.requestsPerClientPerSecond ?? 0,
      MAX_TICKETS_IN_PROGRESS: options.maxTicketsInProgress ?? 0,
      TRUST_PROXY: true,
      PAGES_SHOPPER_ID_INPUT: options.pagesShopperIdInput ?? true,
    },
    {
      ...parts,
      producerRetry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
      draw: options.draw ?? { intervalMs: 100 },
      drawFaults: options.drawFaults,
      drawnDealIds: async () => [...deals],
    },
  );
  await ticketing.start();

  const payment = await createPayment(
    {
      ...parseConfig(paymentConfigSchema, settings),
      PAYMENT_LEASE_MS: options.paymentLeaseMs ?? 30_000,
      PAYMENT_TIMEOUT_MS: options.providerTimeoutMs ?? 2_000,
      SWEEP_INTERVAL_MS: options.sweepIntervalMs ?? 100,
      DATABASE_POOL_SIZE: 5,
      TEST_PAYMENT_LEDGER: options.paymentLedgerFile,
    },
    // Sweeps only this room's deals, so its metrics count only what it did.
    { ...parts, sweptDealIds: async () => [...deals] },
  );
  await payment.start();
  /** A payment app of this room; another one with `faults` models a payment process that dies or stalls at a step. */
  const newPaymentApp = (faults?: PaymentFaults) => createPaymentApp({ ...payment.deps, ...(faults ? { faults } : {}) });

  const admissionConfig = {
    ...parseConfig(admissionConfigSchema, settings),
    ADMISSION_GROUP_ID: groupId,
    ADMISSION_BATCH_SIZE: options.admissionBatchSize ?? 500,
    ADMISSION_BACKOFF_MS: options.backoffMs ?? 300,
    TOPIC_REFRESH_MS: 500,
    CONCURRENT_DEALS: 4,
  };
  // A stopped consumer cannot start again, so each start builds a new admission service; all are closed with the room.
  const admissions: Admission[] = [];
  const newAdmission = (consumer: Partial<AdmissionOptions> = {}) => {
    const built = createAdmission(admissionConfig, { logger, clock, consumer });
    admissions.push(built);
    return built;
  };
  let admission = newAdmission();
  let admitting = options.startAdmission !== false;
  if (admitting) await admission.start();

  const registry = new DealRegistry({ db, store, admin, topicPrefix, topicSettings: stack.topicSettings, ...(clock ? { clock } : {}) });

  const json = async (response: Response) => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const headers = async (shopperId: string, ticket?: string, extra: Record<string, string> = {}) => ({
    ...(await shopperHeaders(shopperId)),
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
    kafkaBrokers: brokers,
    admin,
    producer: producer as Producer,
    /** Ticketing's own producer (@platformatic/kafka), the one tickets and the draw go out on. */
    ticketProducer: ticketing.producer,
    db,
    keyring,
    registry,
    ticketing: ticketing.app,
    /** The services as a server runs them (their node routes ahead of their apps): startHttpStack serves these. */
    services: { ticketing, payment },
    /** The store ticketing reads through (to watch what a poll costs). */
    ticketingStore: ticketing.store,
    payment: payment.app,
    provider: payment.provider,
    sweeper: payment.sweeper,
    orders: payment.orders,
    attempts: payment.attempts,
    newPaymentApp,
    metrics: {
      ticketing: ticketing.metrics,
      payment: payment.metrics,
      /** The metrics of the admission service running now (or last built). */
      get admission() {
        return admission.metrics;
      },
    },
    get consumer() {
      return admitting ? admission.consumer : undefined;
    },
    /** A consumer of this room's deal topics that the caller starts and stops itself. */
    newAdmissionConsumer: (overrides: Partial<AdmissionOptions> = {}) => newAdmission(overrides).consumer,
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
      return json(
        await ticketing.app.request(`/api/v1/deals/${dealId}/tickets`, {
          method: 'POST',
          headers: { ...(await headers(shopperId)), ...init.headers },
        }),
      );
    },
    async status(dealId: string, shopperId: string, ticket: string) {
      return json(await ticketing.app.request(`/api/v1/deals/${dealId}/tickets/status`, { headers: await headers(shopperId, ticket) }));
    },
    /** A pre-queued shopper's poll with the pre-queue ticket. */
    async prequeueStatus(dealId: string, shopperId: string, ticket: string) {
      return json(await ticketing.app.request(`/api/v1/deals/${dealId}/prequeue`, { headers: await headers(shopperId, ticket) }));
    },
    async checkout(dealId: string, shopperId: string, ticket: string) {
      return json(await payment.app.request(`/api/v1/deals/${dealId}/checkout`, { headers: await headers(shopperId, ticket) }));
    },
    async pay(
      dealId: string,
      shopperId: string,
      ticket: string,
      idempotencyKey = uniqueName('pay'),
      paymentToken?: string,
      app = payment.app,
    ) {
      return json(
        await app.request(`/api/v1/deals/${dealId}/orders`, {
          method: 'POST',
          headers: await headers(shopperId, ticket, { 'Idempotency-Key': idempotencyKey, 'Content-Type': 'application/json' }),
          body: JSON.stringify(paymentToken ? { paymentMethod: { token: paymentToken } } : {}),
        }),
      );
    },
    async cancel(dealId: string, shopperId: string, ticket: string) {
      return json(
        await payment.app.request(`/api/v1/deals/${dealId}/checkout`, { method: 'DELETE', headers: await headers(shopperId, ticket) }),
      );
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
      admission = newAdmission();
      await admission.start();
      admitting = true;
      return admission.consumer;
    },
    async stopAdmission() {
      if (admitting) await admission.consumer.stop();
      admitting = false;
    },
    async close() {
      for (const built of admissions) await built.stop().catch(() => undefined);
      await payment.stop().catch(() => undefined);
      await ticketing.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      for (const dealId of deals) await store.removeDeal(dealId).catch(() => undefined);
      const topics = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await db.destroy();
      redis.disconnect();
    },
  };
  return room;
}

export type { Kafka };
