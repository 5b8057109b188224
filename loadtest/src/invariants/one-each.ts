import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/**
 * One each: one ticket, one admission and one order per shopper at a time. DESIGN allows a shopper
 * whose checkout expired unpaid to ask again and join the back of the line with a new ticket, so a
 * second admission is a violation only while the first checkout could still be open (or after a
 * purchase, which ALREADY_PURCHASED refuses).
 */
export function checkOneEach({ evidence, truth }: Sale): InvariantCheck {
  const check = new Check('one-each', 'One each: one ticket, one admission and one paid order per shopper at a time');
  for (const t of evidence.answered) {
    if (t.distinctTickets > 1) check.fail(`${t.shopperId} was handed ${t.distinctTickets} different tickets`);
  }
  const paidAt = new Map(truth.postgres.orders.map((o) => [o.shopperId, o.queueNumber]));
  for (const [shopper, admissions] of groupByShopper(truth.admissions)) {
    if (admissions.length < 2) continue;
    const overlapping = admissions.some((later, i) => {
      const earlier = admissions[i - 1];
      if (!earlier) return false;
      const stillOpen = evidence.windowMs === undefined || later.admittedAt < earlier.admittedAt + evidence.windowMs;
      return stillOpen || paidAt.get(shopper) === earlier.queueNumber;
    });
    if (overlapping) check.fail(`${shopper} admitted ${admissions.length} times, again while an earlier checkout was open or paid`);
  }
  for (const [shopper, n] of repeated(truth.postgres.orders.map((o) => o.shopperId))) check.fail(`${shopper} has ${n} paid orders`);
  return check.result();
}

/** Each shopper's admissions, in the order they were made. */
function groupByShopper(admissions: Sale['truth']['admissions']): Map<string, Sale['truth']['admissions']> {
  const byShopper = new Map<string, Sale['truth']['admissions']>();
  for (const admission of [...admissions].sort((a, b) => a.admittedAt - b.admittedAt)) {
    const list = byShopper.get(admission.shopperId) ?? [];
    list.push(admission);
    byShopper.set(admission.shopperId, list);
  }
  return byShopper;
}

/** The ids that occur more than once, with how often. */
function repeated(ids: string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1);
}
