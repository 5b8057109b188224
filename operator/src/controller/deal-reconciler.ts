/**
 * The reconcile of one deal that does not need Kubernetes: ensure the topic, apply stock, cap and
 * window through the deal registry, read where the deal stands. The controller runs it for every
 * QuickDeal object; `quickdeal apply -f` runs it for QuickDeal YAML files on the local stack.
 */
import {
  formatDuration,
  outageOf,
  type AppliedDeal,
  type Dependency,
  type DealRegistry,
  type DealStatus,
  type QuickDealSpec,
} from '@quickdeal/core';
import type { ConditionInput } from './conditions.js';

export interface DealReconcileResult {
  applied: AppliedDeal;
  status: DealStatus;
  topicReady: ConditionInput;
  configSynced: ConditionInput;
  /** When the phase next changes by the clock alone (opensAt, then closesAt), if that is ahead. */
  nextTransitionAt: number | undefined;
}

/** A step of the reconcile failed; `condition` says which condition reports it, `dependency` which server was out of reach. */
export class DealSyncError extends Error {
  readonly dependency: Dependency | undefined;

  constructor(
    readonly condition: 'TopicReady' | 'ConfigSynced',
    readonly reason: string,
    message: string,
    options?: { cause?: unknown; dependency?: Dependency },
  ) {
    super(message, options);
    this.name = 'DealSyncError';
    this.dependency = options?.dependency;
  }
}

const dependencyNames: Record<Dependency, string> = { kafka: 'Kafka', redis: 'Redis', postgres: 'Postgres' };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A broker that answered and refused (a replication factor above the brokers there are, a bad config), as opposed to one out of reach. */
function kafkaRefusal(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (['KafkaJSProtocolError', 'KafkaJSCreateTopicError', 'KafkaJSAggregateError'].includes(current.name)) return true;
    const inner = current as { cause?: unknown; originalError?: unknown };
    current = inner.originalError ?? inner.cause;
  }
  return false;
}

/**
 * What a failed step means for the deal: a server out of reach is named (`KafkaUnavailable`,
 * `PostgresUnavailable`, `RedisUnavailable`; Ready says `DependencyUnavailable`), anything else is
 * the step's own failure.
 */
export function dealSyncErrorOf(
  error: unknown,
  step: { condition: 'TopicReady' | 'ConfigSynced'; reason: string; doing: string },
): DealSyncError {
  if (error instanceof DealSyncError) return error;
  const outage = kafkaRefusal(error) ? undefined : outageOf(error);
  if (outage) {
    const name = dependencyNames[outage.dependency];
    return new DealSyncError(
      outage.dependency === 'kafka' ? 'TopicReady' : 'ConfigSynced',
      `${name}Unavailable`,
      `${name} is unreachable, so the operator could not ${step.doing}; it retries until ${name} answers: ${messageOf(error)}`,
      { cause: error, dependency: outage.dependency },
    );
  }
  return new DealSyncError(step.condition, step.reason, `could not ${step.doing}: ${messageOf(error)}`, { cause: error });
}

/** The TopicReady a topic's shape earns: one partition (the line's strict order) and at least the replication asked for. */
export function topicCondition(
  topic: string,
  shape: { partitions: number; replicationFactor: number } | undefined,
  wantedReplicationFactor: number,
): ConditionInput {
  if (!shape) return { status: 'False', reason: 'TopicMissing', message: `Topic ${topic} does not exist (deleted since it was ensured?)` };
  if (shape.partitions !== 1) {
    return {
      status: 'False',
      reason: 'WrongPartitionCount',
      message: `Topic ${topic} has ${shape.partitions} partitions; a deal's line must be one partition (strict order). Delete the topic (its tickets are lost) or the deal, and let the operator create it again`,
    };
  }
  if (shape.replicationFactor < wantedReplicationFactor) {
    return {
      status: 'False',
      reason: 'UnderReplicated',
      message: `Topic ${topic} has replication factor ${shape.replicationFactor}, below the ${wantedReplicationFactor} the operator is configured with (KAFKA_REPLICATION_FACTOR); add replicas with kafka-reassign-partitions`,
    };
  }
  return {
    status: 'True',
    reason: 'TopicExists', // stable across reconciles; the TopicCreated Event records the creation
    message: `Topic ${topic} serves the line (one partition, strict order, replication factor ${shape.replicationFactor})`,
  };
}

/** Idempotent: running it again with the same spec changes nothing. Throws DealSyncError when a server fails. */
export async function reconcileDeal(
  registry: DealRegistry,
  dealId: string,
  spec: QuickDealSpec,
  now = Date.now(),
): Promise<DealReconcileResult> {
  let applied: AppliedDeal;
  try {
    applied = await registry.apply(dealId, spec);
  } catch (error) {
    if (outageOf(error)?.dependency === 'kafka' || kafkaRefusal(error)) {
      throw dealSyncErrorOf(error, {
        condition: 'TopicReady',
        reason: 'TopicNotCreated',
        doing: `ensure topic ${registry.topicFor(dealId)}`,
      });
    }
    throw dealSyncErrorOf(error, { condition: 'ConfigSynced', reason: 'ApplyFailed', doing: 'apply the deal to Postgres and Redis' });
  }
  const [status, topic] = await Promise.all([
    registry.status(dealId).catch((error: unknown) => {
      throw dealSyncErrorOf(error, { condition: 'ConfigSynced', reason: 'StatusUnavailable', doing: 'read the deal’s counts' });
    }),
    registry.topicShape(dealId).catch((error: unknown) => {
      throw dealSyncErrorOf(error, {
        condition: 'TopicReady',
        reason: 'TopicUnreadable',
        doing: `read topic ${registry.topicFor(dealId)}`,
      });
    }),
  ]);
  if (!status) throw new DealSyncError('ConfigSynced', 'DealMissing', `deal ${dealId} vanished from Postgres right after it was applied`);

  const { settings } = applied;
  const topicReady = topicCondition(topic.topic, topic.shape, topic.wanted.replicationFactor);
  const configSynced: ConditionInput = applied.stockClamped
    ? {
        status: 'False',
        reason: 'StockBelowSold',
        message: `spec.stock ${spec.stock} is below the ${applied.sold} units already sold; the deal keeps stock ${settings.stock}`,
      }
    : {
        status: 'True',
        reason: 'Applied',
        message: `Stock ${settings.stock}, cap ${settings.cap}, checkout window ${formatDuration(settings.windowMs)}${settings.paused ? ', paused' : ''}`,
      };
  const ahead = [settings.opensAt, settings.closesAt].filter((at): at is number => at !== null && at > now);
  return { applied, status, topicReady, configSynced, nextTransitionAt: ahead.length > 0 ? Math.min(...ahead) : undefined };
}
