/**
 * When ticketing needs its rush capacity, and what that means for its HorizontalPodAutoscaler.
 * A deal's rush runs from `leadMs` before it opens until `holdMs` after (or its close, if sooner),
 * and ends early once it sold out or closed. While any deal's rush runs, the HPA's minReplicas is
 * held at least at the rush minimum (never above its maxReplicas); the HPA itself scales the
 * Deployment, so nothing fights it. The minimum it had before is kept in an annotation and given
 * back after the rush.
 */
export interface RushPolicy {
  /** The ticketing replicas to have ready when a deal opens. */
  minReplicas: number;
  /** How long before `opensAt` the rush capacity is asked for (pods need time to start). */
  leadMs: number;
  /** How long after `opensAt` it is held (the door and the polls stay busy for a while). */
  holdMs: number;
}

export interface DealSchedule {
  deal: string;
  opensAt: number;
  closesAt: number | null;
  /** Sold out or closed: no rush is coming. */
  finished: boolean;
}

/** The annotation on the HPA holding the minReplicas it had before the operator raised it. */
export const baselineAnnotation = 'quickdeal.io/baseline-min-replicas';

function rushWindow(deal: DealSchedule, policy: RushPolicy): { from: number; until: number } | undefined {
  if (deal.finished || !Number.isFinite(deal.opensAt)) return undefined;
  const end = deal.opensAt + policy.holdMs;
  return { from: deal.opensAt - policy.leadMs, until: deal.closesAt === null ? end : Math.min(end, deal.closesAt) };
}

/** The deals whose rush runs at `now`. */
export function dealsInRush(deals: DealSchedule[], now: number, policy: RushPolicy): string[] {
  return deals
    .filter((deal) => {
      const window = rushWindow(deal, policy);
      return window !== undefined && now >= window.from && now < window.until;
    })
    .map((deal) => deal.deal);
}

/** The next moment after `now` that a rush starts or ends, so the scaler looks again right then. */
export function nextRushChange(deals: DealSchedule[], now: number, policy: RushPolicy): number | undefined {
  const moments = deals
    .map((deal) => rushWindow(deal, policy))
    .flatMap((window) => (window ? [window.from, window.until] : []))
    .filter((moment) => moment > now);
  return moments.length > 0 ? Math.min(...moments) : undefined;
}

export interface TicketingBounds {
  minReplicas: number;
  maxReplicas: number;
  /** The baseline annotation, when the operator raised the minimum. */
  baseline?: number;
}

/** A change of the HPA: its minReplicas, and the baseline annotation to set (null removes it). */
export interface TicketingMinimumChange {
  minReplicas: number;
  baseline: number | null;
}

/** What the HPA's minReplicas should become; undefined when it is right as it is. */
export function planTicketingMinimum(hpa: TicketingBounds, rush: boolean, rushMinReplicas: number): TicketingMinimumChange | undefined {
  const raised = (baseline: number) => Math.min(hpa.maxReplicas, Math.max(baseline, rushMinReplicas));
  // A minimum other than the one the operator set was set by someone else (helm upgrade, kubectl): it is the baseline now.
  const recorded = hpa.baseline !== undefined && hpa.minReplicas === raised(hpa.baseline) ? hpa.baseline : undefined;
  const baseline = recorded ?? hpa.minReplicas;
  if (rush) {
    const target = raised(baseline);
    if (target === baseline) return hpa.baseline === undefined ? undefined : { minReplicas: baseline, baseline: null };
    if (target === hpa.minReplicas && hpa.baseline === baseline) return undefined;
    return { minReplicas: target, baseline };
  }
  return hpa.baseline === undefined ? undefined : { minReplicas: baseline, baseline: null };
}
