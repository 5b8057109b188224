import type { ArrivalProfile, FlashSalePlan } from './plan.js';
import type { Random } from './random.js';

/**
 * When each of `count` shoppers arrives, in milliseconds after the start, ascending. The schedule
 * is fixed before the run (an open model: arrivals never wait for answers).
 * - constant: evenly spaced at `ratePerSecond`;
 * - poisson: exponential gaps with mean 1/`ratePerSecond`;
 * - spike: front-loaded over the same span as constant, the rate falling linearly from twice the
 *   mean at the open to zero (a flash sale's crowd at the opening bell).
 */
export function arrivalSchedule(count: number, ratePerSecond: number, profile: ArrivalProfile, random: Random): Float64Array {
  const times = new Float64Array(count);
  const spanMs = (count / ratePerSecond) * 1000;
  if (profile === 'constant') {
    for (let i = 0; i < count; i++) times[i] = (i * 1000) / ratePerSecond;
  } else if (profile === 'poisson') {
    let t = 0;
    for (let i = 0; i < count; i++) {
      times[i] = t;
      t += (-Math.log(1 - random.next()) * 1000) / ratePerSecond;
    }
  } else {
    // rate(t) = 2R(1 − t/S): the share arrived by t is 1 − (1 − t/S)², so the i-th quantile is at S(1 − √(1 − q)).
    for (let i = 0; i < count; i++) times[i] = spanMs * (1 - Math.sqrt(1 - i / count));
  }
  return times;
}

/**
 * The run's whole schedule. Without a pre-open time, `arrivalSchedule` of the plan. With one
 * (`preOpenMs`), the deal opens that long after time zero: `preOpenShare` of the shoppers arrive
 * evenly (Poisson) before the open, into the pre-queue, and the rest from the open on by the plan's
 * profile and rate.
 */
export function openingSchedule(
  plan: Pick<FlashSalePlan, 'shoppers' | 'arrivalRate' | 'arrivalProfile' | 'preOpenMs' | 'preOpenShare'>,
  random: Random,
): Float64Array {
  if (plan.preOpenMs <= 0) return arrivalSchedule(plan.shoppers, plan.arrivalRate, plan.arrivalProfile, random);
  const early = Math.round(plan.shoppers * plan.preOpenShare);
  const times = new Float64Array(plan.shoppers);
  const before = arrivalSchedule(early, early / (plan.preOpenMs / 1000), 'poisson', random);
  // Poisson gaps may run past the open: squeeze them into [0, preOpen) keeping their spacing's shape.
  const last = early > 0 ? (before[early - 1] as number) : 0;
  const squeeze = last >= plan.preOpenMs ? (plan.preOpenMs * 0.999) / last : 1;
  for (let i = 0; i < early; i++) times[i] = (before[i] as number) * squeeze;
  const after = arrivalSchedule(plan.shoppers - early, plan.arrivalRate, plan.arrivalProfile, random);
  for (let i = 0; i < after.length; i++) times[early + i] = plan.preOpenMs + (after[i] as number);
  return times;
}
