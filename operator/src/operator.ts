/**
 * The operator's manager: with leader election, only the replica holding the Lease runs the
 * QuickDeal controller, the consumer scaler and the ticketing rush scaler; the others wait to take
 * over. Without it (one replica, or a test) they run at once. Every write checks the Lease first (the fence), and losing
 * the Lease calls `onLostLeadership` at once: the process exits there, as controller-runtime's
 * manager does, so no reconcile in flight takes another step.
 */
import { AppsV1Api, AutoscalingV2Api, CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { DealRegistry, Logger } from '@quickdeal/core';
import type { ConditionInput } from './controller/conditions.js';
import { LeaderElector, type LeaderElectionOptions } from './controller/leader-election.js';
import { QuickDealController, type QuickDealControllerOptions } from './controller/quickdeal-controller.js';
import type { OperatorMetrics } from './metrics.js';
import { ConsumerScaler, type ConsumerScalerOptions } from './scaling/consumer-scaler.js';
import { PrometheusClient } from './scaling/prometheus.js';
import { TicketingRushScaler, type TicketingRushOptions } from './scaling/ticketing-rush-scaler.js';

export interface OperatorOptions {
  identity: string;
  controller: Omit<QuickDealControllerOptions, 'identity'>;
  /** Undefined: no election, this process leads at once. */
  leaderElection?: Omit<LeaderElectionOptions, 'identity'>;
  /** Undefined: the admission consumers are not scaled (ConsumersScaled stays Unknown). */
  scaling?: ConsumerScalerOptions & { prometheusUrl: string; queryTimeoutMs?: number };
  /** Undefined: ticketing's HPA is left as it is around openings. */
  ticketingRush?: TicketingRushOptions;
}

export interface OperatorDeps {
  kubeConfig: KubeConfig;
  registry: DealRegistry;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Called the moment the Lease is lost (not on a graceful stop); the process exits non-zero there. */
  onLostLeadership?: () => void;
  /** Resolves once Postgres holds the schema the registry needs (the migrations ran). */
  schemaReady?: () => Promise<void>;
}

const scalingDisabled: ConditionInput = {
  status: 'Unknown',
  reason: 'ScalingDisabled',
  message:
    'The operator does not scale the admission consumers (no PROMETHEUS_URL, or SCALE_ADMISSION=false: KEDA or a fixed count sets them)',
};

export class Operator {
  readonly controller: QuickDealController;
  readonly scaler: ConsumerScaler | undefined;
  readonly ticketingRush: TicketingRushScaler | undefined;
  private readonly elector: LeaderElector | undefined;
  private leading = false;
  private stopping = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: OperatorDeps,
    readonly options: OperatorOptions,
  ) {
    const { kubeConfig, metrics, logger } = deps;
    const scaling = options.scaling;
    this.scaler = scaling
      ? new ConsumerScaler(
          {
            apps: kubeConfig.makeApiClient(AppsV1Api),
            prometheus: new PrometheusClient(scaling.prometheusUrl, scaling.queryTimeoutMs),
            metrics,
            logger,
            mayAct: () => this.mayAct(),
          },
          scaling,
        )
      : undefined;
    this.ticketingRush = options.ticketingRush
      ? new TicketingRushScaler(
          { autoscaling: kubeConfig.makeApiClient(AutoscalingV2Api), metrics, logger, mayAct: () => this.mayAct() },
          options.ticketingRush,
        )
      : undefined;
    this.controller = new QuickDealController(
      {
        kubeConfig,
        registry: deps.registry,
        metrics,
        logger,
        consumersScaled: () => this.scaler?.condition() ?? scalingDisabled,
        mayAct: () => this.mayAct(),
        ...(deps.schemaReady ? { schemaReady: deps.schemaReady } : {}),
      },
      { ...options.controller, identity: options.identity },
    );
    if (options.leaderElection) {
      this.elector = new LeaderElector(
        kubeConfig.makeApiClient(CoordinationV1Api),
        { ...options.leaderElection, identity: options.identity },
        {
          onStartedLeading: () => this.serialize(() => this.lead()),
          onStoppedLeading: () => {
            if (!this.stopping) deps.onLostLeadership?.();
            return this.serialize(() => this.unlead());
          },
          onNewLeader: (identity) => logger.info({ leader: identity }, 'the QuickDeal operator leader is now known'),
        },
        logger,
      );
    }
    metrics.leader.set(0);
  }

  async start(): Promise<void> {
    if (this.elector) this.elector.start();
    else await this.serialize(() => this.lead());
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The fence every write passes: leading, and (with an election) the Lease renewed within the renew deadline. */
  mayAct(): boolean {
    return this.leading && (this.elector?.holdsLease() ?? true);
  }

  /** Healthy unless it leads on a Lease it has not managed to renew. */
  isHealthy(): boolean {
    return this.elector?.isHealthy() ?? true;
  }

  /** Stops the controller and the scaler; with `release`, hands the Lease over at once. */
  async stop(options: { release: boolean } = { release: true }): Promise<void> {
    this.stopping = true;
    if (this.elector) await this.elector.stop(options);
    else await this.serialize(() => this.unlead());
    await this.transition;
  }

  /** Leadership changes one at a time, so a quick lose-then-win never runs two controllers. */
  private serialize(step: () => Promise<void>): Promise<void> {
    this.transition = this.transition.then(step, step);
    return this.transition;
  }

  private async lead(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    this.deps.metrics.leader.set(1);
    await this.controller.start();
    this.scaler?.start({ dealIds: () => this.controller.dealIds(), onChange: () => this.controller.enqueueAll() });
    this.ticketingRush?.start(() => this.controller.schedules());
  }

  private async unlead(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.deps.metrics.leader.set(0);
    await Promise.all([this.scaler?.stop(), this.ticketingRush?.stop()]);
    await this.controller.stop();
  }
}
