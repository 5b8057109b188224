import { describe, expect, it } from 'vitest';
import { arrivalSchedule, openingSchedule } from '../src/arrivals.js';
import { PlanError, planFor, planOverrides, scenarios } from '../src/plan.js';
import { Random } from '../src/random.js';

describe('arrival schedules', () => {
  it('spaces constant arrivals evenly at the rate', () => {
    const times = arrivalSchedule(5, 10, 'constant', new Random(1));
    expect([...times]).toEqual([0, 100, 200, 300, 400]);
  });

  it('front-loads a spike over the same span: half of it arrives in the first 30% of the time', () => {
    const times = arrivalSchedule(10_000, 1_000, 'spike', new Random(1));
    const span = 10_000;
    expect(times[times.length - 1]).toBeLessThan(span);
    const firstThird = times.filter((t) => t < 0.3 * span).length;
    expect(firstThird / times.length).toBeGreaterThan(0.5);
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
  });

  it('draws Poisson arrivals around the mean rate, the same for the same seed', () => {
    const a = arrivalSchedule(20_000, 1_000, 'poisson', new Random(42));
    const b = arrivalSchedule(20_000, 1_000, 'poisson', new Random(42));
    expect([...a]).toEqual([...b]);
    expect((a[a.length - 1] as number) / 1000).toBeGreaterThan(19);
    expect((a[a.length - 1] as number) / 1000).toBeLessThan(21);
  });
});

describe('the opening-rush schedule', () => {
  it('puts the pre-open share before the open and the rest from the open on, in order', () => {
    const plan = planFor('opening-rush');
    const times = openingSchedule(plan, new Random(1));
    const early = times.filter((t) => t < plan.preOpenMs).length;
    expect(early).toBe(50_000);
    expect(times[early]).toBe(plan.preOpenMs);
    // the first 50,000 spread over the ten minutes, the rest within ten seconds of the open
    expect(times[early - 1]).toBeGreaterThan(plan.preOpenMs * 0.95);
    expect((times[times.length - 1] as number) - plan.preOpenMs).toBeLessThan(10_000);
    expect(times.every((t, i) => i === 0 || t >= (times[i - 1] as number))).toBe(true);
  });

  it('scales down with --shoppers and --pre-open, and refuses a pre-open for several deals', () => {
    const plan = planFor('opening-rush', planOverrides({ shoppers: '400', 'pre-open': '6s', 'arrival-rate': '200' }));
    const times = openingSchedule(plan, new Random(1));
    expect(times.filter((t) => t < 6_000).length).toBe(200);
    expect(times[times.length - 1]).toBeLessThan(6_000 + 1_000);
    expect(() => planFor('opening-rush', { deals: 2 })).toThrow('--pre-open runs a single deal');
    expect(() => planFor(undefined, planOverrides({ 'pre-open': '10ms' }))).toThrow('--pre-open must be 0 or at least 1s');
    expect(() => planFor(undefined, planOverrides({ 'proof-of-work': '-1' }))).toThrow('--proof-of-work must be');
  });
});

describe('plans', () => {
  it('takes a scenario and lets options override it', () => {
    const plan = planFor('spike-100k', planOverrides({ window: '20m', pay: '0.5', think: '1s-3s' }));
    expect(plan).toMatchObject({
      scenario: 'spike-100k',
      shoppers: 100_000,
      stock: 1_000,
      windowMs: 1_200_000,
      pay: 0.5,
      thinkMs: [1_000, 3_000],
    });
    for (const name of Object.keys(scenarios)) expect(() => planFor(name)).not.toThrow();
  });

  it('names what is wrong with bad options', () => {
    expect(() => planFor('nope')).toThrow(PlanError);
    expect(() => planOverrides({ window: 'soon' })).toThrow('--window must be a duration');
    expect(() => planFor(undefined, { pay: 0.8, cancel: 0.3 })).toThrow('--pay + --cancel must not exceed 1');
    expect(() => planFor(undefined, planOverrides({ shoppers: '0' }))).toThrow('--shoppers must be a whole number');
  });
});
