import type { Admin } from 'kafkajs';
import type { Kysely } from 'kysely';
import {
  DealRegistry,
  DealStore,
  connectDatabase,
  connectRedis,
  createKafka,
  defaultTopicPrefix,
  migrateToLatest,
  pendingMigrations,
  type Database,
  type Logger,
  type RedisClient,
  type RedisTopology,
  type TopicSettings,
} from '@quickdeal/core';

/** Where the servers a deal lives in are: Redis, Postgres and Kafka. */
export interface RegistryTarget {
  /** A Redis URL (standalone) or any topology. */
  redis: RedisTopology | string;
  postgresUrl: string;
  kafkaBrokers: string[];
  topicPrefix?: string;
  topicSettings?: TopicSettings;
  kafkaClientId?: string;
  logger?: Logger;
  /**
   * `now` (the default: `quickdeal apply`, tests): migrate Postgres and connect to Kafka before
   * returning, failing if either is down. `lazily` (the operator): return at once and reach each
   * server when first used, so an outage shows in the deals' conditions instead of a failed start;
   * Postgres must then be migrated by someone else (the chart's hook Job).
   */
  connect?: 'now' | 'lazily';
}

export interface RegistryConnection {
  registry: DealRegistry;
  redis: RedisClient;
  db: Kysely<Database>;
  admin: Admin;
  /** Resolves once Postgres holds every migration this code knows; rejects with SchemaNotMigratedError or the outage. */
  schemaReady(): Promise<void>;
  close(): Promise<void>;
}

/** Postgres answers but lacks migrations: nobody ran them (the chart's hook Job, or `migrate`). */
export class SchemaNotMigratedError extends Error {
  constructor(readonly pending: string[]) {
    super(
      `Postgres lacks ${pending.length} migration(s) (${pending.join(', ')}): run them with the chart's migration Job (helm upgrade) or \`node operator/dist/main.js migrate\``,
    );
    this.name = 'SchemaNotMigratedError';
  }
}

/** Connects a deal registry (by default running the database migrations first); close() lets go of everything. */
export async function connectDealRegistry(target: RegistryTarget): Promise<RegistryConnection> {
  const lazily = target.connect === 'lazily';
  const redis = connectRedis(target.redis);
  // Lazily, a server that does not answer must fail the step that needed it, not hang it.
  const db = connectDatabase(target.postgresUrl, { maxConnections: 2, ...(lazily ? { connectTimeoutMs: 5_000 } : {}) });
  const admin = createKafka({
    brokers: target.kafkaBrokers,
    clientId: target.kafkaClientId ?? 'quickdeal-cli',
    ...(target.logger ? { logger: target.logger } : {}),
    // Lazily, a reconcile fails within about 3 s while Kafka is down (a loaded broker still gets five tries); its work queue backs off.
    ...(lazily ? { retries: 5 } : {}),
  }).admin();
  const close = async () => {
    await admin.disconnect().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    redis.disconnect();
  };
  let migrated = false;
  const schemaReady = async () => {
    if (migrated) return;
    const pending = await pendingMigrations(db);
    if (pending.length > 0) throw new SchemaNotMigratedError(pending);
    migrated = true;
  };
  if (!lazily) {
    try {
      await migrateToLatest(db);
      migrated = true;
      await admin.connect();
    } catch (error) {
      await close();
      throw error;
    }
  }
  const registry = new DealRegistry({
    db,
    store: new DealStore(redis),
    admin,
    topicPrefix: target.topicPrefix ?? defaultTopicPrefix,
    topicSettings: target.topicSettings ?? { replicationFactor: 1, minInsyncReplicas: 1 },
  });
  return { registry, redis, db, admin, schemaReady, close };
}
