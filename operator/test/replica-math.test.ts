import { describe, expect, it } from 'vitest';
import { ScaleDownStabilizer, recommendReplicas, type ScalingPolicy } from '@quickdeal/operator';

const policy: ScalingPolicy = { minReplicas: 1, maxReplicas: 5, targetPerReplica: 100, activationThreshold: 10 };
const deals = (...work: Array<[number, number?]>) => work.map(([waiting, lag = 0], i) => ({ deal: `d${i}`, waiting, lag }));

describe('recommendReplicas (KEDA’s rule for Kafka)', () => {
  it('stays at the minimum below the activation threshold', () => {
    expect(recommendReplicas(deals([5], [5]), policy)).toEqual({ replicas: 1, total: 10, partitionsWithWork: 2, active: false });
    expect(recommendReplicas([], { ...policy, minReplicas: 0 })).toMatchObject({ replicas: 0, active: false });
  });

  it('runs one replica per target of waiting tickets, rounding up', () => {
    expect(recommendReplicas(deals([150], [150], [1]), policy).replicas).toBe(3); // ceil(301 / 100)
  });

  it('never runs more consumers than deals with tickets waiting', () => {
    expect(recommendReplicas(deals([5_000], [0], [0]), policy)).toMatchObject({ replicas: 1, partitionsWithWork: 1 });
    expect(recommendReplicas(deals([900], [900], [0]), policy)).toMatchObject({ replicas: 2, partitionsWithWork: 2 });
  });

  it('keeps within min and max', () => {
    expect(recommendReplicas(deals(...Array.from({ length: 9 }, (): [number] => [1_000])), policy).replicas).toBe(5);
    expect(recommendReplicas(deals([200], [200]), { ...policy, minReplicas: 3 }).replicas).toBe(3);
  });

  it('counts the larger of waiting tickets and consumer lag, and ignores nonsense', () => {
    expect(recommendReplicas(deals([0, 250], [100, 20]), policy)).toMatchObject({ total: 350, replicas: 2 });
    expect(recommendReplicas(deals([Number.NaN, -4], [Infinity]), policy)).toMatchObject({ total: 0, replicas: 1 });
  });

  it('activates with at least one replica even when the minimum is zero', () => {
    expect(recommendReplicas(deals([50]), { ...policy, minReplicas: 0 }).replicas).toBe(1);
  });
});

describe('ScaleDownStabilizer (the HPA’s scale-down window)', () => {
  it('scales up at once and down only when the window holds nothing higher', () => {
    const stabilizer = new ScaleDownStabilizer(10_000);
    stabilizer.seed(0, 2);
    expect(stabilizer.stabilize(1_000, 4)).toBe(4); // up: at once
    expect(stabilizer.stabilize(2_000, 1)).toBe(4); // down: held
    expect(stabilizer.stabilize(10_500, 1)).toBe(4); // the 4 from t=1s is still in the window
    expect(stabilizer.stabilize(11_500, 1)).toBe(1);
  });

  it('does not flap while a line flickers around a boundary: one scale-up, one scale-down a window after the last high', () => {
    const stabilizer = new ScaleDownStabilizer(10_000);
    stabilizer.seed(0, 0);
    // every 500 ms the line crosses the boundary between one and two consumers
    const applied = Array.from({ length: 20 }, (_, i) => stabilizer.stabilize((i + 1) * 500, i % 2 === 0 ? 2 : 1));
    expect(new Set(applied)).toEqual(new Set([2])); // every consumer change rebalances the group: none here
    expect(stabilizer.stabilize(19_499, 1)).toBe(2);
    expect(stabilizer.stabilize(19_500, 1)).toBe(1); // the last 2 (at 9.5 s) has left the window
  });

  it('holds the replicas that ran when it was seeded for one window', () => {
    const stabilizer = new ScaleDownStabilizer(5_000);
    stabilizer.seed(0, 3);
    stabilizer.seed(100, 9); // only the first seed counts
    expect(stabilizer.stabilize(1_000, 1)).toBe(3);
    expect(stabilizer.stabilize(5_001, 1)).toBe(1);
  });
});
