/**
 * The reconcile of one deal that does not need Kubernetes: ensure the topic, apply stock, cap and
 * window through the deal registry, read where the deal stands. The controller runs it for every
 * QuickDeal object; `quickdeal apply -f` runs it for QuickDeal YAML files on the local stack.
 */
import { formatDuration, type AppliedDeal, type DealRegistry, type DealStatus, type QuickDealSpec } from '@quickdeal/core';
import type { ConditionInput } from './conditions.js';

export interface DealReconcileResult {
  applied: AppliedDeal;
  status: DealStatus;
  topicReady: ConditionInput;
  configSynced: ConditionInput;
  /** When the phase next changes by the clock alone (opensAt, then closesAt), if that is ahead. */
  nextTransitionAt: number | undefined;
}

/** A step of the reconcile failed; `condition` says which condition reports it. */
export class DealSyncError extends Error {
  constructor(
    readonly condition: 'TopicReady' | 'ConfigSynced',
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DealSyncError';
  }
}

const isKafkaError = (error: unknown) => error instanceof Error && error.name.startsWith('KafkaJS');

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
    const message = error instanceof Error ? error.message : String(error);
    if (isKafkaError(error)) {
      throw new DealSyncError('TopicReady', 'KafkaUnavailable', `could not ensure topic ${registry.topicFor(dealId)}: ${message}`, {
        cause: error,
      });
    }
    throw new DealSyncError('ConfigSynced', 'ApplyFailed', `could not apply the deal to Postgres and Redis: ${message}`, { cause: error });
  }
  const status = await registry.status(dealId).catch((error: unknown) => {
    throw new DealSyncError(
      'ConfigSynced',
      'StatusUnavailable',
      `could not read the deal’s counts: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
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
