import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/** Cap: the active set never above the cap, in any sample taken during the run or at the end. */
export function checkCap({ evidence, truth }: Sale): { check: InvariantCheck; maxActiveSampled: number } {
  const { cap } = evidence;
  const check = new Check('cap', `Cap: never more than ${cap} shoppers in checkout at once`);
  const maxActiveSampled = evidence.activeSamples.reduce((max, active) => Math.max(max, active), truth.redis.active);
  const over = evidence.activeSamples.filter((active) => active > cap);
  if (over.length > 0) check.fail(`${over.length} samples above the cap, up to ${maxActiveSampled} active`, over.length);
  if (truth.redis.active > cap) check.fail(`${truth.redis.active} active at the end`);
  return { check: check.result(), maxActiveSampled };
}
