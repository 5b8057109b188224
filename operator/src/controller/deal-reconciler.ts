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
  const status = await registry.status(dealId).catch((error: unknown) => {
    throw dealSyncErrorOf(error, { condition: 'ConfigSynced', reason: 'StatusUnavailable', doing: 'read the deal’s counts' });
  });
  if (!status) throw new DealSyncError('ConfigSynced', 'DealMissing', `deal ${dealId} vanished from Postgres right after it was applied`);

  const { settings } = applied;
  const topicReady: ConditionInput = {
    status: 'True',
    reason: 'TopicExists', // stable across reconciles; the TopicCreated Event records the creation
    message: `Topic ${applied.topic} serves the line (one partition, strict order)`,
  };
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
