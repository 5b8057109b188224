import type { Random } from './random.js';

/**
 * The share of the crowd each of `deals` deals draws, most popular first: Zipf's law, deal k
 * (from 1) in proportion to 1/k^s. With s = 1 and 20 deals the hot deal draws 28 % of the
 * shoppers and the last 1.4 %; s = 0 makes every deal alike.
 */
export function zipfShares(deals: number, exponent: number): number[] {
  const weights = Array.from({ length: deals }, (_, k) => 1 / (k + 1) ** exponent);
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => w / total);
}

/**
 * Which deal each of `shoppers` shoppers goes for (an index into the deals, 0 the most popular),
 * drawn from the Zipf shares with the run's seeded generator: the same seed, the same crowd.
 */
export function assignDeals(shoppers: number, deals: number, exponent: number, random: Random): Uint16Array {
  const dealOf = new Uint16Array(shoppers);
  if (deals <= 1) return dealOf;
  const cumulative: number[] = [];
  let sum = 0;
  for (const share of zipfShares(deals, exponent)) cumulative.push((sum += share));
  for (let i = 0; i < shoppers; i++) {
    const draw = random.next();
    let lo = 0;
    let hi = deals - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (draw < (cumulative[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    dealOf[i] = lo;
  }
  return dealOf;
}
