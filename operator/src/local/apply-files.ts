import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { parseAllDocuments } from 'yaml';
import {
  DealRegistry,
  DealStore,
  connectDatabase,
  createKafka,
  describeIssues,
  migrateToLatest,
  type AppliedDeal,
  type DealStatus,
} from '@quickdeal/core';
import { quickDealDocumentSchema, type QuickDealDocument } from '../api/v1alpha1/quickdeal.js';

/** Where a local stack's servers are: what `quickdeal apply` and `get deals` talk to instead of Kubernetes. */
export interface LocalTarget {
  redisUrl: string;
  postgresUrl: string;
  kafkaBrokers: string[];
  topicPrefix?: string;
}

export class QuickDealFileError extends Error {}

/** Reads every QuickDeal in the YAML files (several documents per file allowed); any invalid one fails the whole read. */
export async function readQuickDealFiles(files: string[]): Promise<QuickDealDocument[]> {
  const documents: QuickDealDocument[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new QuickDealFileError(`${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
    });
    const parsed = parseAllDocuments(text);
    for (const [index, document] of (Array.isArray(parsed) ? parsed : [parsed]).entries()) {
      if (document.errors.length > 0) throw new QuickDealFileError(`${file} (document ${index + 1}): ${document.errors[0]?.message}`);
      const value: unknown = document.toJS();
      if (value === null || value === undefined) continue;
      const result = quickDealDocumentSchema.safeParse(value);
      if (!result.success) throw new QuickDealFileError(`${file} (document ${index + 1}): ${describeIssues(result.error)}`);
      documents.push(result.data);
    }
  }
  return documents;
}

/** Connects the deal registry to a local stack for one command, and closes it afterwards. */
export async function withLocalRegistry<T>(target: LocalTarget, work: (registry: DealRegistry) => Promise<T>): Promise<T> {
  const redis = new Redis(target.redisUrl, { maxRetriesPerRequest: 2 });
  const db = connectDatabase(target.postgresUrl, { maxConnections: 2 });
  const admin = createKafka({ brokers: target.kafkaBrokers, clientId: 'quickdeal-cli' }).admin();
  try {
    await migrateToLatest(db);
    await admin.connect();
    const registry = new DealRegistry({
      db,
      store: new DealStore(redis),
      admin,
      topicPrefix: target.topicPrefix ?? 'quickdeal.tickets.',
      topicSettings: { replicationFactor: 1, minInsyncReplicas: 1 },
    });
    return await work(registry);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await db.destroy();
    redis.disconnect();
  }
}

/** `quickdeal apply -f`: the same deal registry the operator's reconcile uses, without Kubernetes. */
export async function applyQuickDealFiles(files: string[], target: LocalTarget): Promise<AppliedDeal[]> {
  const documents = await readQuickDealFiles(files);
  return withLocalRegistry(target, async (registry) => {
    const applied: AppliedDeal[] = [];
    for (const document of documents) applied.push(await registry.apply(document.metadata.name, document.spec));
    return applied;
  });
}

export async function listLocalDeals(target: LocalTarget): Promise<DealStatus[]> {
  return withLocalRegistry(target, (registry) => registry.list());
}
