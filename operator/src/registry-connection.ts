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
}

export interface RegistryConnection {
  registry: DealRegistry;
  redis: RedisClient;
  db: Kysely<Database>;
  admin: Admin;
  close(): Promise<void>;
}

/** Connects a deal registry (running the database migrations first); close() lets go of everything. */
export async function connectDealRegistry(target: RegistryTarget): Promise<RegistryConnection> {
  const redis = connectRedis(target.redis);
  const db = connectDatabase(target.postgresUrl, { maxConnections: 2 });
  const admin = createKafka({
    brokers: target.kafkaBrokers,
    clientId: target.kafkaClientId ?? 'quickdeal-cli',
    ...(target.logger ? { logger: target.logger } : {}),
  }).admin();
  const close = async () => {
    await admin.disconnect().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    redis.disconnect();
  };
  try {
    await migrateToLatest(db);
    await admin.connect();
  } catch (error) {
    await close();
    throw error;
  }
  const registry = new DealRegistry({
    db,
    store: new DealStore(redis),
    admin,
    topicPrefix: target.topicPrefix ?? defaultTopicPrefix,
    topicSettings: target.topicSettings ?? { replicationFactor: 1, minInsyncReplicas: 1 },
  });
  return { registry, redis, db, admin, close };
}
