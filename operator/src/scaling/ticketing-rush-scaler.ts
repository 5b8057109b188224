/**
 * Gets ticketing ready for an opening: raises the minReplicas of ticketing's HorizontalPodAutoscaler
 * ahead of each deal's `opensAt` and gives the old minimum back after the rush (rush-window.ts).
 * It only moves the HPA's lower bound: the HPA scales the Deployment, within its own maxReplicas,
 * on CPU as before, and scales back down at its own pace once the minimum is lowered.
 */
import type { AutoscalingV2Api } from '@kubernetes/client-node';
import type { Logger } from '@quickdeal/core';
import { describeApiError, fieldManager, isNotFound, mergePatch } from '../controller/kube-api.js';
import type { OperatorMetrics } from '../metrics.js';
import {
  baselineAnnotation,
  dealsInRush,
  nextRushChange,
  planTicketingMinimum,
  type DealSchedule,
  type RushPolicy,
} from './rush-window.js';

export interface TicketingRushOptions extends RushPolicy {
  namespace: string;
  /** The ticketing HorizontalPodAutoscaler. */
  hpa: string;
  /** How often it looks again when no rush starts or ends sooner. */
  intervalMs: number;
}

export type TicketingRushResult = 'raised' | 'lowered' | 'unchanged' | 'hpa_missing' | 'kubernetes_error';

export class TicketingRushScaler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private lastResult: TicketingRushResult | undefined;

  constructor(
    private readonly deps: {
      autoscaling: AutoscalingV2Api;
      metrics: OperatorMetrics;
      logger: Logger;
      /** The leadership fence: false once the Lease may be lost, and the HPA is left alone. */
      mayAct?: () => boolean;
      now?: () => number;
    },
    private readonly options: TicketingRushOptions,
  ) {}

  start(schedules: () => DealSchedule[]): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.evaluate(schedules()).finally(() => {
        if (this.stopped) return;
        const now = this.now();
        const next = nextRushChange(schedules(), now, this.options);
        const delay = next === undefined ? this.options.intervalMs : Math.min(this.options.intervalMs, next - now + 1);
        this.timer = setTimeout(loop, delay);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One look at the deals' schedules and the HPA. */
  async evaluate(deals: DealSchedule[]): Promise<TicketingRushResult> {
    const { namespace, hpa: name } = this.options;
    const target = `HorizontalPodAutoscaler ${namespace}/${name}`;
    const rushing = dealsInRush(deals, this.now(), this.options);
    try {
      const hpa = await this.deps.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace });
      const recorded = Number.parseInt(hpa.metadata?.annotations?.[baselineAnnotation] ?? '', 10);
      const bounds = {
        minReplicas: hpa.spec?.minReplicas ?? 1,
        maxReplicas: hpa.spec?.maxReplicas ?? 1,
        ...(Number.isInteger(recorded) && recorded >= 0 ? { baseline: recorded } : {}),
      };
      const change = planTicketingMinimum(bounds, rushing.length > 0, this.options.minReplicas);
      if (!change) return this.record('unchanged', bounds.minReplicas);
      if (this.deps.mayAct?.() === false) return 'unchanged'; // the Lease may be gone: another leader decides
      await this.deps.autoscaling.patchNamespacedHorizontalPodAutoscaler(
        {
          name,
          namespace,
          fieldManager,
          body: {
            // resourceVersion makes the patch conditional: a minimum changed meanwhile is read again next time.
            metadata: {
              resourceVersion: hpa.metadata?.resourceVersion,
              annotations: { [baselineAnnotation]: change.baseline === null ? null : String(change.baseline) },
            },
            spec: { minReplicas: change.minReplicas },
          },
        },
        mergePatch,
      );
      const raised = change.minReplicas > bounds.minReplicas;
      this.deps.logger.info(
        { hpa: target, from: bounds.minReplicas, to: change.minReplicas, deals: rushing },
        raised ? 'raised ticketing’s minimum replicas ahead of an opening' : 'gave ticketing its minimum replicas back after the rush',
      );
      return this.record(raised ? 'raised' : change.minReplicas < bounds.minReplicas ? 'lowered' : 'unchanged', change.minReplicas);
    } catch (error) {
      const result = isNotFound(error) ? 'hpa_missing' : 'kubernetes_error';
      // Said once per failure, not every interval (a cluster without ticketing's HPA would repeat it forever).
      if (this.lastResult !== result)
        this.deps.logger.warn({ hpa: target, error: describeApiError(error) }, 'cannot adjust ticketing’s minimum replicas');
      return this.record(result);
    }
  }

  private record(result: TicketingRushResult, minReplicas?: number): TicketingRushResult {
    this.lastResult = result;
    this.deps.metrics.ticketingRushEvaluations.inc({ result });
    if (minReplicas !== undefined) this.deps.metrics.ticketingMinReplicas.set(minReplicas);
    return result;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}
