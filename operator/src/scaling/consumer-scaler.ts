/**
 * Scales the admission Deployment from Prometheus: reads each deal's waiting tickets and consumer
 * lag, recommends replicas (replica-math.ts), holds scale-downs for the stabilisation window and
 * patches the Deployment's scale subresource. When Prometheus cannot be read it keeps the replicas
 * and says why; the deals' ConsumersScaled condition shows that.
 */
import type { AppsV1Api } from '@kubernetes/client-node';
import type { Logger } from '@quickdeal/core';
import type { ConditionInput } from '../controller/conditions.js';
import { describeApiError, fieldManager, isNotFound, mergePatch } from '../controller/kube-api.js';
import type { OperatorMetrics } from '../metrics.js';
import type { PrometheusClient } from './prometheus.js';
import { ScaleDownStabilizer, recommendReplicas, type DealWork, type ScalingPolicy } from './replica-math.js';

/** The gauges the admission service exports per deal (services/core/src/metrics.ts). */
export const waitingMetric = 'quickdeal_queue_waiting';
export const lagMetric = 'quickdeal_consumer_lag_messages';

export interface ConsumerScalerOptions extends ScalingPolicy {
  namespace: string;
  deployment: string;
  intervalMs: number;
  scaleDownStabilizationMs: number;
  /** Label matchers that pick this installation's admission consumers, e.g. `namespace="shop"`. */
  metricSelector?: string;
}

export class ConsumerScaler {
  private outcome: ConditionInput = { status: 'Unknown', reason: 'Pending', message: 'The admission consumers have not been scaled yet' };
  private readonly stabilizer: ScaleDownStabilizer;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly deps: {
      apps: AppsV1Api;
      prometheus: PrometheusClient;
      metrics: OperatorMetrics;
      logger: Logger;
      /** The leadership fence: false once the Lease may be lost, and the Deployment is left alone. */
      mayAct?: () => boolean;
    },
    private readonly options: ConsumerScalerOptions,
  ) {
    this.stabilizer = new ScaleDownStabilizer(options.scaleDownStabilizationMs);
  }

  /** What the QuickDeals' ConsumersScaled condition says. */
  condition(): ConditionInput {
    return this.outcome;
  }

  /** Evaluates every interval; `onChange` runs when the condition changes (the controller then refreshes every deal's status). */
  start(sources: { dealIds: () => string[]; onChange: () => void }): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stabilizer.reset();
    const tick = async () => {
      const before = JSON.stringify(this.outcome);
      await this.evaluate(sources.dealIds());
      if (JSON.stringify(this.outcome) !== before) sources.onChange();
    };
    const loop = () => {
      if (this.stopped) return;
      this.running = tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.intervalMs);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One scaling decision for the given deals. */
  async evaluate(dealIds: string[]): Promise<ConditionInput> {
    const { namespace, deployment } = this.options;
    const target = `Deployment ${namespace}/${deployment}`;
    let current: number;
    try {
      const scale = await this.deps.apps.readNamespacedDeploymentScale({ name: deployment, namespace });
      current = scale.spec?.replicas ?? 0;
    } catch (error) {
      const missing = isNotFound(error);
      this.deps.metrics.scalingEvaluations.inc({ result: missing ? 'deployment_missing' : 'kubernetes_error' });
      return this.settle(
        missing
          ? {
              status: 'False',
              reason: 'AdmissionDeploymentNotFound',
              message: `${target} does not exist; there are no admission consumers to scale`,
            }
          : { status: 'False', reason: 'ScaleUnreadable', message: `cannot read the scale of ${target}: ${describeApiError(error)}` },
      );
    }
    this.deps.metrics.admissionReplicas.set(current);
    const now = Date.now();
    this.stabilizer.seed(now, current);

    let work: DealWork[];
    try {
      work = await this.readWork(dealIds);
    } catch (error) {
      this.deps.metrics.scalingEvaluations.inc({ result: 'prometheus_unavailable' });
      this.deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'cannot read the scaling metrics; keeping the replicas',
      );
      return this.settle({
        status: 'False',
        reason: 'PrometheusUnavailable',
        message: `${error instanceof Error ? error.message : String(error)}; keeping ${current} admission replica${current === 1 ? '' : 's'}`,
      });
    }

    const recommendation = recommendReplicas(work, this.options);
    const replicas = this.stabilizer.stabilize(now, recommendation.replicas);
    if (replicas !== current) {
      if (this.deps.mayAct?.() === false) return this.outcome; // the Lease may be gone: another leader decides
      try {
        await this.deps.apps.patchNamespacedDeploymentScale(
          { name: deployment, namespace, fieldManager, body: { spec: { replicas } } },
          mergePatch,
        );
      } catch (error) {
        this.deps.metrics.scalingEvaluations.inc({ result: 'kubernetes_error' });
        return this.settle({
          status: 'False',
          reason: 'ScaleFailed',
          message: `cannot scale ${target} to ${replicas}: ${describeApiError(error)}`,
        });
      }
      this.deps.logger.info(
        { deployment: target, from: current, to: replicas, waiting: recommendation.total, partitions: recommendation.partitionsWithWork },
        'scaled the admission consumers',
      );
    }
    this.deps.metrics.scalingEvaluations.inc({ result: replicas === current ? 'unchanged' : 'scaled' });
    this.deps.metrics.admissionReplicas.set(replicas);
    const held =
      replicas > recommendation.replicas
        ? `; scaling down to ${recommendation.replicas} waits out the ${Math.round(this.options.scaleDownStabilizationMs / 1000)}s stabilisation window`
        : '';
    return this.settle({
      status: 'True',
      reason: 'Scaled',
      message:
        `${target} runs ${replicas} admission replica${replicas === 1 ? '' : 's'}: ${recommendation.partitionsWithWork} deal${recommendation.partitionsWithWork === 1 ? '' : 's'} with waiting tickets, ` +
        `${this.options.targetPerReplica} tickets per replica, ${this.options.minReplicas}–${this.options.maxReplicas} replicas${held}`,
    });
  }

  private settle(outcome: ConditionInput): ConditionInput {
    this.outcome = outcome;
    return outcome;
  }

  /** Each served deal's waiting tickets and lag; a deal no consumer reports has none. */
  private async readWork(dealIds: string[]): Promise<DealWork[]> {
    const selector = this.options.metricSelector ? `{${this.options.metricSelector}}` : '';
    const [waiting, lag] = await Promise.all(
      [waitingMetric, lagMetric].map(async (metric) => {
        const samples = await this.deps.prometheus.query(`max by (deal) (${metric}${selector})`);
        return new Map(samples.map((sample) => [sample.labels.deal ?? '', sample.value]));
      }),
    );
    return dealIds.map((deal) => ({ deal, waiting: waiting?.get(deal) ?? 0, lag: lag?.get(deal) ?? 0 }));
  }
}
