import type { ArrivalProfile } from './plan.js';
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
