/**
 * How many admission consumers the deals need, the way KEDA's Kafka scaler and the HPA decide it:
 * the work is the waiting tickets (or the consumer lag, whichever is larger) of each deal; below
 * the activation threshold the consumers stay at the minimum; above it, one replica per
 * `targetPerReplica` tickets, never more than the deals (partitions) that have tickets waiting,
 * since one partition is read by one consumer of the group; always within min and max.
 */
export interface ScalingPolicy {
  minReplicas: number;
  maxReplicas: number;
  /** Waiting tickets one consumer is expected to work through (KEDA's lagThreshold). */
  targetPerReplica: number;
  /** Total waiting tickets above which the consumers scale at all (KEDA's activationLagThreshold). */
  activationThreshold: number;
}

export interface DealWork {
  deal: string;
  waiting: number;
  lag: number;
}

export interface Recommendation {
  replicas: number;
  /** Waiting tickets across the deals. */
  total: number;
  /** Deals (single-partition topics) with tickets waiting: the most consumers that can have work. */
  partitionsWithWork: number;
  active: boolean;
}

const amount = (value: number) => (Number.isFinite(value) && value > 0 ? value : 0);

export function recommendReplicas(work: DealWork[], policy: ScalingPolicy): Recommendation {
  const perDeal = work.map((deal) => Math.max(amount(deal.waiting), amount(deal.lag)));
  const total = perDeal.reduce((sum, value) => sum + value, 0);
  const partitionsWithWork = perDeal.filter((value) => value > 0).length;
  const active = total > policy.activationThreshold && partitionsWithWork > 0;
  if (!active) return { replicas: policy.minReplicas, total, partitionsWithWork, active };
  const wanted = Math.min(Math.ceil(total / policy.targetPerReplica), partitionsWithWork);
  const replicas = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, 1, wanted));
  return { replicas, total, partitionsWithWork, active };
}

/**
 * The HPA's scale-down stabilisation: the replicas to run are the highest recommendation of the
 * last window, so a short dip never scales down and a rise scales up at once.
 */
export class ScaleDownStabilizer {
  private history: Array<{ at: number; replicas: number }> = [];

  constructor(private readonly windowMs: number) {}

  /** Remembers the replicas that run now (at start, so a new leader does not scale down at once). */
  seed(now: number, replicas: number): void {
    if (this.history.length === 0) this.history.push({ at: now, replicas });
  }

  stabilize(now: number, recommended: number): number {
    this.history = this.history.filter((entry) => now - entry.at < this.windowMs);
    this.history.push({ at: now, replicas: recommended });
    return Math.max(...this.history.map((entry) => entry.replicas));
  }

  reset(): void {
    this.history = [];
  }
}
