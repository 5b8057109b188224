import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import {
  describeIssues,
  parseHostPorts,
  type AppliedDeal,
  type RedisTopology,
  type TopicSettings,
  type DealRegistry,
  type DealStatus,
} from '@quickdeal/core';
import { quickDealDocumentSchema, type QuickDealDocument } from '../api/v1alpha1/quickdeal.js';
import { reconcileDeal } from '../controller/deal-reconciler.js';
import { connectDealRegistry } from '../registry-connection.js';

/** Where a local stack's servers are: what `quickdeal apply` and `get deals` talk to instead of Kubernetes. */
export interface LocalTarget {
  redisUrl: string;
  /** When the stack's Redis is a cluster: its nodes as host:port (then redisUrl is not used). */
  redisClusterNodes?: string[] | undefined;
  postgresUrl: string;
  kafkaBrokers: string[];
  topicPrefix?: string;
  topicSettings?: TopicSettings;
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
  const redis: RedisTopology | string = target.redisClusterNodes
    ? { kind: 'cluster', nodes: parseHostPorts(target.redisClusterNodes.join(',')) }
    : target.redisUrl;
  const connection = await connectDealRegistry({ ...target, redis });
  try {
    return await work(connection.registry);
  } finally {
    await connection.close();
  }
}

/** `quickdeal apply -f`: the operator's own reconcile of a deal, without Kubernetes. */
export async function applyQuickDealFiles(files: string[], target: LocalTarget): Promise<AppliedDeal[]> {
  const documents = await readQuickDealFiles(files);
  return withLocalRegistry(target, async (registry) => {
    const applied: AppliedDeal[] = [];
    for (const document of documents) applied.push((await reconcileDeal(registry, document.metadata.name, document.spec)).applied);
    return applied;
  });
}

export async function listLocalDeals(target: LocalTarget): Promise<DealStatus[]> {
  return withLocalRegistry(target, (registry) => registry.list());
}
