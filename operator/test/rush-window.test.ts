import { describe, expect, it } from 'vitest';
import { dealsInRush, nextRushChange, planTicketingMinimum, type DealSchedule, type RushPolicy } from '@quickdeal/operator';

const minute = 60_000;
const policy: RushPolicy = { minReplicas: 6, leadMs: 5 * minute, holdMs: 15 * minute };
const deal = (opensAt: number, extra: Partial<DealSchedule> = {}): DealSchedule => ({
  deal: `opens-${opensAt}`,
  opensAt,
  closesAt: null,
  finished: false,
  ...extra,
});

describe('a deal’s rush', () => {
  const opensAt = 60 * minute;

  it('runs from the lead time before opensAt until the hold after it', () => {
    const deals = [deal(opensAt)];
    expect(dealsInRush(deals, opensAt - 5 * minute - 1, policy)).toEqual([]);
    expect(dealsInRush(deals, opensAt - 5 * minute, policy)).toEqual([deals[0]!.deal]);
    expect(dealsInRush(deals, opensAt + 15 * minute - 1, policy)).toEqual([deals[0]!.deal]);
    expect(dealsInRush(deals, opensAt + 15 * minute, policy)).toEqual([]);
  });

  it('ends at closesAt when that comes first, and at once when the deal sold out', () => {
    expect(dealsInRush([deal(opensAt, { closesAt: opensAt + minute })], opensAt + 2 * minute, policy)).toEqual([]);
    expect(dealsInRush([deal(opensAt, { finished: true })], opensAt, policy)).toEqual([]);
  });

  it('names the next moment a rush starts or ends', () => {
    const deals = [deal(opensAt), deal(opensAt + 30 * minute)];
    expect(nextRushChange(deals, 0, policy)).toBe(opensAt - 5 * minute);
    expect(nextRushChange(deals, opensAt, policy)).toBe(opensAt + 15 * minute);
    expect(nextRushChange(deals, opensAt + 15 * minute, policy)).toBe(opensAt + 25 * minute);
    expect(nextRushChange(deals, opensAt + 45 * minute, policy)).toBeUndefined();
    expect(nextRushChange([deal(Number.NaN)], 0, policy)).toBeUndefined();
  });
});

describe('ticketing’s HPA minimum', () => {
  it('is raised during a rush, remembering the minimum it had, and given back after', () => {
    const raised = planTicketingMinimum({ minReplicas: 2, maxReplicas: 10 }, true, 6);
    expect(raised).toEqual({ minReplicas: 6, baseline: 2 });
    expect(planTicketingMinimum({ minReplicas: 6, maxReplicas: 10, baseline: 2 }, true, 6)).toBeUndefined(); // already raised
    expect(planTicketingMinimum({ minReplicas: 6, maxReplicas: 10, baseline: 2 }, false, 6)).toEqual({ minReplicas: 2, baseline: null });
    expect(planTicketingMinimum({ minReplicas: 2, maxReplicas: 10 }, false, 6)).toBeUndefined(); // no rush, nothing raised
  });

  it('never goes above the HPA’s maximum, and leaves a minimum that is high enough alone', () => {
    expect(planTicketingMinimum({ minReplicas: 2, maxReplicas: 4 }, true, 6)).toEqual({ minReplicas: 4, baseline: 2 });
    expect(planTicketingMinimum({ minReplicas: 8, maxReplicas: 10 }, true, 6)).toBeUndefined();
  });

  it('takes a minimum someone else set meanwhile as the new baseline', () => {
    // helm upgrade put the chart's 3 back during the rush: raise again, and give back 3 afterwards
    expect(planTicketingMinimum({ minReplicas: 3, maxReplicas: 10, baseline: 2 }, true, 6)).toEqual({ minReplicas: 6, baseline: 3 });
    // after the rush someone set 7: keep it, drop the stale annotation
    expect(planTicketingMinimum({ minReplicas: 7, maxReplicas: 10, baseline: 2 }, false, 6)).toEqual({ minReplicas: 7, baseline: null });
    // someone raised it above the rush minimum during the rush: theirs stands
    expect(planTicketingMinimum({ minReplicas: 8, maxReplicas: 10, baseline: 2 }, true, 6)).toEqual({ minReplicas: 8, baseline: null });
  });
});
