/**
 * The QuickDeal controller. An informer watches QuickDeals and only enqueues `namespace/name`; one
 * work queue hands each key to one worker at a time, retries failures with a per-key back-off and
 * brings deals back at their opensAt and closesAt and for a status refresh. The reconcile is
 * level-triggered and can be re-run any number of times: finalizer → validate → topic and settings
 * (deal-reconciler.ts) → status, written only through the status subresource.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { describeIssues, quickDealSpecSchema, type DealRegistry, type Logger } from '@quickdeal/core';
import { group, plural, quickDealFinalizer, version, type QuickDeal, type QuickDealStatus } from '../api/v1alpha1/quickdeal.js';
import type { OperatorMetrics } from '../metrics.js';
import type { DealSchedule } from '../scaling/rush-window.js';
import { mergeConditions, readyCondition, type ConditionInput } from './conditions.js';
import { DealSyncError, dealSyncErrorOf, reconcileDeal } from './deal-reconciler.js';
import { EventRecorder, type EventType } from './events.js';
import { describeApiError, fieldManager, isNotFound, mergePatch } from './kube-api.js';
import { WorkQueue, type WorkQueueOptions } from './work-queue.js';
import { finishedPhases, nextStatusRefreshMs } from './resync.js';

export interface QuickDealControllerOptions {
  /** Watch QuickDeals of this namespace only; all namespaces when undefined. */
  namespace?: string;
  /** How often a deal's status (its counts) is refreshed while nothing else brings it back. */
  resyncMs: number;
  workers: number;
  backoff: WorkQueueOptions;
  /** Names this operator in the Events it records. */
  identity: string;
  /**
   * Serve only QuickDeals labelled `quickdeal.io/class: <dealClass>`; without a class, only those
   * with no such label. Two releases in one cluster each take a class, so no deal is served twice.
   */
  dealClass?: string;
}

export interface QuickDealControllerDeps {
  kubeConfig: KubeConfig;
  registry: DealRegistry;
  metrics: OperatorMetrics;
  logger: Logger;
  /** The ConsumersScaled condition every deal reports (the scaler's last decision). */
  consumersScaled: () => ConditionInput;
  /** The leadership fence, asked before every write; false drops the reconcile where it stands. */
  mayAct?: () => boolean;
  /** Resolves once Postgres holds the schema the registry needs (RegistryConnection.schemaReady); none: assumed. */
  schemaReady?: () => Promise<void>;
}

/** A reconcile stopped before a write because this process may no longer hold the Lease. */
export class NotLeaderError extends Error {
  constructor() {
    super('not the leader any more: the reconcile stops before its next write');
    this.name = 'NotLeaderError';
  }
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** Phases nothing but an edit of the spec leaves: sold out (sales only add to sold) and closed. */

/** Reasons that report a server out of reach (deal-reconciler.ts names them). */
const outageReasons = new Set(['KafkaUnavailable', 'PostgresUnavailable', 'RedisUnavailable']);

/** The longest back-off while a server (Kafka, Redis, Postgres) is out of reach. */
const outageRetryMaxMs = 5_000;

/** The longest a timer waits; a deal opening in a month is looked at again long before. */
const maxRequeueMs = 3_600_000;

/** Object keys sorted, so two statuses compare equal however the API server ordered them. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}

export class QuickDealController {
  private readonly custom: CustomObjectsApi;
  private readonly events: EventRecorder;
  private queue: WorkQueue | undefined;
  private informer: (Informer<KubernetesObject> & ObjectCache<KubernetesObject>) | undefined;
  private workers: Promise<void>[] = [];
  /** What each deal looked like when last enqueued, so the operator's own status writes do not wake it. */
  private readonly seen = new Map<string, string>();
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: QuickDealControllerDeps,
    private readonly options: QuickDealControllerOptions,
  ) {
    this.custom = deps.kubeConfig.makeApiClient(CustomObjectsApi);
    this.events = new EventRecorder(
      deps.kubeConfig.makeApiClient(CoreV1Api),
      { component: 'quickdeal-operator', instance: options.identity },
      deps.logger,
    );
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    const queue = new WorkQueue(this.options.backoff);
    this.queue = queue;
    const { namespace } = this.options;
    const path = namespace ? `/apis/${group}/${version}/namespaces/${namespace}/${plural}` : `/apis/${group}/${version}/${plural}`;
    const labelSelector = dealClassSelector(this.options.dealClass);
    const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
      namespace
        ? this.custom.listNamespacedCustomObject({ group, version, namespace, plural, labelSelector })
        : this.custom.listClusterCustomObject({ group, version, plural, labelSelector });
    // Custom objects arrive as plain JSON (timestamps are strings), hence QuickDeal rather than the typed models.
    const informer = makeInformer(this.deps.kubeConfig, path, list, labelSelector);
    this.informer = informer;
    informer.on('add', (deal) => this.observe(deal as QuickDeal, 'add'));
    informer.on('update', (deal) => this.observe(deal as QuickDeal, 'update'));
    informer.on('delete', (deal) => this.observe(deal as QuickDeal, 'delete'));
    informer.on('error', (error: unknown) => {
      if (this.stopped) return; // stop() aborts the watch, which reports an AbortError
      this.deps.logger.warn({ error: describeApiError(error) }, 'the QuickDeal watch failed; restarting it');
      this.restartTimer = setTimeout(() => void informer.start().catch(() => undefined), 2_000);
    });
    await informer.start();
    this.workers = Array.from({ length: this.options.workers }, () => this.work(queue));
    this.deps.logger.info({ namespace: namespace ?? '(all)' }, 'watching QuickDeals');
  }

  /** Stops watching and hands out no more keys; reconciles in flight finish first. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
    this.queue?.shutDown();
    await Promise.all(this.workers);
    this.workers = [];
    this.seen.clear();
  }

  private cached(): QuickDeal[] {
    return (this.informer?.list() ?? []) as unknown as QuickDeal[];
  }

  /** The deals the operator serves (for the scaler). */
  dealIds(): string[] {
    return [
      ...new Set(
        this.cached()
          .filter((deal) => !deal.metadata.deletionTimestamp)
          .map((deal) => deal.metadata.name),
      ),
    ];
  }

  /** When each served deal opens and closes, and whether it is finished (for the ticketing rush). */
  schedules(): DealSchedule[] {
    return this.cached()
      .filter((deal) => !deal.metadata.deletionTimestamp)
      .map((deal) => ({
        deal: deal.metadata.name,
        opensAt: Date.parse(deal.spec.opensAt),
        closesAt: deal.spec.closesAt ? Date.parse(deal.spec.closesAt) : null,
        finished: finishedPhases.has(deal.status?.phase ?? ''),
      }));
  }

  /** Brings every deal back (the scaling condition changed). */
  enqueueAll(): void {
    for (const deal of this.cached()) this.queue?.add(keyOf(deal));
  }

  private observe(deal: QuickDeal, verb: 'add' | 'update' | 'delete'): void {
    const key = keyOf(deal);
    if (verb === 'delete') {
      this.seen.delete(key);
      // A deal of the same name that waited in NameConflict may be served now.
      for (const other of this.cached())
        if (other.metadata.name === deal.metadata.name && keyOf(other) !== key) this.queue?.add(keyOf(other));
    } else {
      const { generation, deletionTimestamp, finalizers } = deal.metadata;
      const fingerprint = stableJson([generation, deletionTimestamp, finalizers, deal.spec]);
      if (verb === 'update' && this.seen.get(key) === fingerprint) return;
      this.seen.set(key, fingerprint);
    }
    this.queue?.add(key);
    this.deps.metrics.deals.set(this.informer?.list().length ?? 0);
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.deps.metrics.workQueueDepth.set(queue.length);
      const done = this.deps.metrics.reconcileDuration.startTimer();
      try {
        const result = await this.reconcile(key);
        queue.forget(key);
        this.deps.metrics.reconciles.inc({ result: 'success' });
        if (result.requeueAfterMs !== undefined) queue.addAfter(key, Math.min(result.requeueAfterMs, maxRequeueMs));
      } catch (error) {
        if (error instanceof NotLeaderError) {
          this.deps.logger.warn({ deal: key }, error.message);
          continue; // the finally below still marks the key done; the next leader reconciles it
        }
        this.deps.metrics.reconciles.inc({ result: 'error' });
        // A server out of reach is tried again every few seconds at most, so the deal recovers soon after it answers.
        const outage = error instanceof DealSyncError && error.dependency !== undefined;
        const delay = queue.addRateLimited(key, outage ? outageRetryMaxMs : undefined);
        this.deps.logger.warn(
          { deal: key, retryInMs: delay, error: error instanceof DealSyncError ? error.message : describeApiError(error) },
          'reconcile failed',
        );
      } finally {
        done();
        queue.done(key);
      }
    }
  }

  /** Brings one QuickDeal to what its spec says. Safe to run any number of times. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    let deal: QuickDeal;
    try {
      deal = (await this.custom.getNamespacedCustomObject({ group, version, namespace, plural, name })) as QuickDeal;
    } catch (error) {
      if (isNotFound(error)) return {}; // gone, and its finalizer already ran
      throw error;
    }
    if (deal.metadata.deletionTimestamp) {
      await this.finalize(deal);
      return {};
    }
    if (!deal.metadata.finalizers?.includes(quickDealFinalizer)) {
      deal = await this.setFinalizers(deal, [...(deal.metadata.finalizers ?? []), quickDealFinalizer]);
    }

    const owner = this.nameOwner(deal);
    if (owner) {
      const message = `deal ${name} is already served by the QuickDeal in namespace ${owner}; a deal's name must be unique across namespaces`;
      await this.failStatus(deal, { ConfigSynced: { status: 'False', reason: 'NameConflict', message } }, 'Warning');
      return {};
    }

    const parsed = quickDealSpecSchema.safeParse(deal.spec);
    if (!parsed.success) {
      const message = `the spec is invalid: ${describeIssues(parsed.error)}`;
      await this.failStatus(deal, { ConfigSynced: { status: 'False', reason: 'InvalidSpec', message } }, 'Warning');
      return {}; // nothing to retry until the spec changes
    }

    const now = Date.now();
    let result;
    this.fence();
    try {
      await this.deps.schemaReady?.().catch((error: unknown) => {
        throw dealSyncErrorOf(error, {
          condition: 'ConfigSynced',
          reason: 'SchemaNotMigrated',
          doing: 'find the QuickDeal tables in Postgres',
        });
      });
      result = await reconcileDeal(this.deps.registry, name, parsed.data, now);
    } catch (error) {
      if (error instanceof DealSyncError) {
        await this.failStatus(
          deal,
          { [error.condition]: { status: 'False', reason: error.reason, message: error.message } },
          'Warning',
          error.dependency ? { status: 'False', reason: 'DependencyUnavailable', message: error.message } : undefined,
        ).catch((statusError: unknown) => {
          if (statusError instanceof NotLeaderError) throw statusError;
        });
      }
      throw error;
    }

    const { applied, status: counts, topicReady, configSynced } = result;
    const previous = deal.status;
    if (applied.topicCreated) await this.record(deal, 'Normal', 'TopicCreated', `Created topic ${applied.topic}`);
    if (configSynced.reason === 'StockBelowSold' && conditionOf(previous, 'ConfigSynced')?.reason !== 'StockBelowSold') {
      await this.record(deal, 'Warning', 'StockBelowSold', configSynced.message);
    }
    if (topicReady.status !== 'True' && conditionOf(previous, 'TopicReady')?.reason !== topicReady.reason) {
      await this.record(deal, 'Warning', topicReady.reason, topicReady.message);
    }
    if (previous?.phase !== counts.phase) {
      await this.record(
        deal,
        'Normal',
        'PhaseChanged',
        previous?.phase ? `${previous.phase} → ${counts.phase}` : `Deal is ${counts.phase}`,
      );
    }
    const conditions = {
      TopicReady: topicReady,
      ConfigSynced: configSynced,
      ConsumersScaled: this.deps.consumersScaled(),
      Ready: readyCondition([topicReady, configSynced]),
    };
    await this.writeStatus(deal, {
      phase: counts.phase,
      topic: applied.topic,
      waiting: counts.waiting,
      active: counts.active,
      sold: counts.sold,
      remaining: Math.max(0, counts.remaining),
      ...(counts.draw ? { draw: counts.draw } : {}),
      observedGeneration: deal.metadata.generation,
      conditions: mergeConditions(previous?.conditions, conditions, deal.metadata.generation, new Date(now)),
    });
    // A finished, settled deal rests: only an edit of its spec (a watch event) brings it back.
    const untilTransition = result.nextTransitionAt === undefined ? undefined : result.nextTransitionAt - now + 20;
    const requeueAfterMs = nextStatusRefreshMs(counts, untilTransition, this.options.resyncMs);
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /** The finalizer: admissions stop and the deal's Redis keys go; the topic too when deletionPolicy says Delete; orders stay. */
  private async finalize(deal: QuickDeal): Promise<void> {
    if (!deal.metadata.finalizers?.includes(quickDealFinalizer)) return;
    const { name } = deal.metadata;
    if (!this.nameOwner(deal)) {
      const deleteTopic = deal.spec?.deletionPolicy === 'Delete';
      this.fence();
      await this.deps.registry.remove(name, { deleteTopic });
      await this.record(
        deal,
        'Normal',
        'CleanedUp',
        `Admissions stopped and Redis keys removed${deleteTopic ? `; topic ${this.deps.registry.topicFor(name)} deleted` : '; topic kept (deletionPolicy Retain)'}; orders are kept`,
      );
    }
    await this.setFinalizers(
      deal,
      (deal.metadata.finalizers ?? []).filter((finalizer) => finalizer !== quickDealFinalizer),
    );
    this.deps.logger.info({ deal: keyOf(deal) }, 'finalized');
  }

  /** The namespace of an older QuickDeal with the same name (deal ids are global), if any. */
  private nameOwner(deal: QuickDeal): string | undefined {
    const mine = [deal.metadata.creationTimestamp ?? '', deal.metadata.namespace ?? ''];
    const older = this.cached().filter((other) => {
      if (other.metadata.name !== deal.metadata.name || other.metadata.namespace === deal.metadata.namespace) return false;
      const theirs = [other.metadata.creationTimestamp ?? '', other.metadata.namespace ?? ''];
      return theirs[0]! < mine[0]! || (theirs[0] === mine[0] && theirs[1]! < mine[1]!);
    });
    return older[0]?.metadata.namespace;
  }

  /** Throws NotLeaderError unless this process still holds the Lease; called right before every write. */
  private fence(): void {
    if (this.deps.mayAct?.() === false) throw new NotLeaderError();
  }

  private async setFinalizers(deal: QuickDeal, finalizers: string[]): Promise<QuickDeal> {
    this.fence();
    const { namespace = '', name, resourceVersion } = deal.metadata;
    // The resourceVersion makes this a compare-and-swap: a concurrent change fails it with 409 and the key is retried.
    return (await this.custom.patchNamespacedCustomObject(
      { group, version, namespace, plural, name, fieldManager, body: { metadata: { finalizers, resourceVersion } } },
      mergePatch,
    )) as QuickDeal;
  }

  /** Reports a failed step: its condition, Ready (the step's, unless `ready` says otherwise) and, once per reason, an Event. */
  private async failStatus(
    deal: QuickDeal,
    failing: Partial<Record<'TopicReady' | 'ConfigSynced', ConditionInput>>,
    eventType: EventType,
    ready?: ConditionInput,
  ): Promise<void> {
    const [type, condition] = Object.entries(failing)[0] as ['TopicReady' | 'ConfigSynced', ConditionInput];
    if (conditionOf(deal.status, type)?.reason !== condition.reason)
      await this.record(deal, eventType, condition.reason, condition.message);
    // The other step's outage is old news once this step got further or failed otherwise: it was not looked at this time.
    const other = type === 'TopicReady' ? 'ConfigSynced' : 'TopicReady';
    const stale = outageReasons.has(conditionOf(deal.status, other)?.reason ?? '')
      ? { [other]: { status: 'Unknown', reason: 'NotChecked', message: `not checked since ${type} failed (${condition.reason})` } }
      : {};
    const conditions = { ...stale, ...failing, ConsumersScaled: this.deps.consumersScaled(), Ready: ready ?? condition };
    await this.writeStatus(deal, {
      ...deal.status,
      observedGeneration: deal.metadata.generation,
      conditions: mergeConditions(deal.status?.conditions, conditions, deal.metadata.generation, new Date()),
    });
  }

  private async writeStatus(deal: QuickDeal, status: QuickDealStatus): Promise<void> {
    if (stableJson(deal.status ?? {}) === stableJson(status)) return;
    this.fence();
    const { namespace = '', name } = deal.metadata;
    await this.custom.patchNamespacedCustomObjectStatus(
      { group, version, namespace, plural, name, fieldManager, body: { status } },
      mergePatch,
    );
  }

  private record(deal: QuickDeal, type: EventType, reason: string, message: string): Promise<void> {
    this.fence();
    return this.events.record(deal, type, reason, message);
  }
}

/** The label that assigns a QuickDeal to one operator installation. */
export const dealClassLabel = 'quickdeal.io/class';

export function dealClassSelector(dealClass: string | undefined): string {
  return dealClass ? `${dealClassLabel}=${dealClass}` : `!${dealClassLabel}`;
}

function keyOf(deal: QuickDeal): string {
  return `${deal.metadata.namespace ?? ''}/${deal.metadata.name}`;
}

function conditionOf(status: QuickDealStatus | undefined, type: string) {
  return status?.conditions?.find((condition) => condition.type === type);
}
