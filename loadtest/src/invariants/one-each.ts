import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/** One each: one ticket, one admission and one order per shopper. */
export function checkOneEach({ evidence, truth }: Sale): InvariantCheck {
  const check = new Check('one-each', 'One each: at most one ticket, one admission and one paid order per shopper');
  for (const t of evidence.answered) {
    if (t.distinctTickets > 1) check.fail(`${t.shopperId} was handed ${t.distinctTickets} different tickets`);
  }
  for (const [shopper, n] of repeated(truth.admissions.map((a) => a.shopperId))) check.fail(`${shopper} admitted ${n} times`);
  for (const [shopper, n] of repeated(truth.postgres.orders.map((o) => o.shopperId))) check.fail(`${shopper} has ${n} paid orders`);
  return check.result();
}

/** The ids that occur more than once, with how often. */
function repeated(ids: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1);
}
