import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/** Units of ended checkouts go back: nothing held past its deadline (and the sweeper's grace), the counts add up. */
export function checkUnitsReturned({ evidence, truth }: Sale): { check: InvariantCheck; staleCheckouts: number } {
  const check = new Check(
    'units-returned',
    'Units of expired or cancelled checkouts go back: no checkout outlives its deadline, every unit accounted for',
  );
  const grace = evidence.sweepGraceMs ?? 5_000;
  let staleCheckouts = 0;
  for (const { shopperId, deadline } of truth.activeDeadlines) {
    if (deadline < truth.readAt - grace) {
      staleCheckouts++;
      check.fail(`${shopperId} still holds a unit ${Math.round((truth.readAt - deadline) / 1000)} s after the deadline`);
    }
  }
  const r = truth.redis;
  const expectedAvailable = Math.max(0, r.stock - r.sold - r.active);
  if (r.available !== expectedAvailable)
    check.fail(`${r.available} units free for admission, but stock ${r.stock} − sold ${r.sold} − held ${r.active} = ${expectedAvailable}`);
  if (truth.admissions.length !== r.admitted)
    check.fail(`the audit trail holds ${truth.admissions.length} admissions, the counters ${r.admitted}`);
  const ended = r.purchased + r.cancelled + r.expired + r.active;
  if (r.admitted !== ended) {
    check.fail(
      `${r.admitted} admitted but ${r.purchased} paid + ${r.cancelled} cancelled + ${r.expired} expired + ${r.active} still active = ${ended}`,
    );
  }
  return { check: check.result(), staleCheckouts };
}
