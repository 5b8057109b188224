import { statusRank } from './flash-sale.js';
import type { Truth } from './truth.js';

/** A shopper who was given a ticket, as the generator saw it. */
export interface AnsweredTicket {
  shopperId: string;
  queueNumber: number;
  /** Different tickets this shopper was handed (the generator never asks again after its ticket is spent). */
  distinctTickets: number;
  /** Every status the API reported to them, in order. */
  statuses: string[];
}

export interface Evidence {
  cap: number;
  truth: Truth;
  answered: AnsweredTicket[];
  /** The deal's active count, sampled from Redis during the run. */
  activeSamples: number[];
  /** What the status API said for a sample of shoppers after the run (a status, or an error code such as TICKET_EXPIRED). */
  apiAnswers?: Array<{ shopperId: string; status: string }>;
  /** How late the sweeper may be in ending a checkout whose deadline passed. */
  sweepGraceMs?: number;
}

export interface InvariantCheck {
  name: string;
  title: string;
  violations: number;
  /** The first few violations, each naming what broke. */
  examples: string[];
}

export interface InvariantReport {
  ok: boolean;
  checks: InvariantCheck[];
  figures: {
    fifoViolations: number;
    oversoldUnits: number;
    lostTickets: number;
    /** Tickets still in line, unprocessed, when the truth was read (the run stopped before the line drained). */
    stillWaiting: number;
    maxActiveSampled: number;
    staleCheckouts: number;
    ticketsChecked: number;
  };
}

const maxExamples = 10;

class Check {
  violations = 0;
  readonly examples: string[] = [];

  constructor(
    readonly name: string,
    readonly title: string,
  ) {}

  fail(example: string, count = 1): void {
    this.violations += count;
    if (this.examples.length < maxExamples) this.examples.push(example);
  }

  result(): InvariantCheck {
    return { name: this.name, title: this.title, violations: this.violations, examples: this.examples };
  }
}

interface Acknowledged {
  queueNumber: number;
  shopperId: string;
}

/**
 * Checks every invariant of DESIGN.md against what was read back after a run. Pure: the same
 * evidence always gives the same report, and hand-made evidence can prove each check bites.
 */
export function checkInvariants(evidence: Evidence): InvariantReport {
  const { truth, cap } = evidence;
  const grace = evidence.sweepGraceMs ?? 5_000;
  const logByQn = new Map(truth.log.map((entry) => [entry.queueNumber, entry]));
  const admittedByQn = new Map(truth.admissions.map((a) => [a.queueNumber, a]));
  const admittedShoppers = new Set(truth.admissions.map((a) => a.shopperId));
  const orderByShopper = new Map(truth.postgres.orders.map((o) => [o.shopperId, o]));

  // Acknowledged tickets: every ticket answered to the generator, plus any in the log whose Redis
  // record shows it was answered (a 201 the generator missed, e.g. after its own timeout).
  const acknowledged = new Map<number, Acknowledged>();
  for (const t of evidence.answered) acknowledged.set(t.queueNumber, { queueNumber: t.queueNumber, shopperId: t.shopperId });
  for (const entry of truth.log) {
    const record = entry.valid ? truth.records.get(entry.shopperId) : undefined;
    if (record && record.jti === entry.jti && record.state !== 'pending' && !acknowledged.has(entry.queueNumber)) {
      acknowledged.set(entry.queueNumber, { queueNumber: entry.queueNumber, shopperId: entry.shopperId });
    }
  }

  // No oversell: Postgres's sold within stock, every unit an order, every order an admitted shopper's.
  const oversell = new Check('no-oversell', 'No oversell: sold ≤ stock in Postgres, one order per sold unit, orders only from admitted shoppers');
  const pg = truth.postgres;
  const oversoldUnits = Math.max(0, pg.sold - pg.stock, pg.orders.length - pg.stock);
  if (oversoldUnits > 0) oversell.fail(`sold ${pg.sold} and ${pg.orders.length} orders for a stock of ${pg.stock}`, oversoldUnits);
  if (pg.orders.length !== pg.sold) oversell.fail(`Postgres counts sold = ${pg.sold} but holds ${pg.orders.length} orders`);
  if (truth.redis.sold !== pg.sold) oversell.fail(`Redis believes ${truth.redis.sold} sold, Postgres says ${pg.sold}`);
  for (const order of pg.orders) {
    const admission = admittedByQn.get(order.queueNumber);
    if (!admission || admission.shopperId !== order.shopperId) {
      oversell.fail(`order of ${order.shopperId} (queue number ${order.queueNumber}) without an admission`);
    }
  }

  // Strict FIFO: admissions in queue order, and no valid, unexpired ticket passed over.
  const fifo = new Check('strict-fifo', 'Strict FIFO: nobody admitted before a valid, unexpired ticket with a lower queue number');
  for (let i = 1; i < truth.admissions.length; i++) {
    const [before, after] = [truth.admissions[i - 1], truth.admissions[i]] as const;
    if (before && after && after.queueNumber <= before.queueNumber) {
      fifo.fail(`queue number ${after.queueNumber} admitted after ${before.queueNumber}`);
    }
  }
  // The earliest admission time among admissions of higher queue numbers, by binary search over the qn-sorted trail.
  const byQn = [...truth.admissions].sort((a, b) => a.queueNumber - b.queueNumber);
  const earliestFrom = new Float64Array(byQn.length + 1).fill(Infinity);
  for (let i = byQn.length - 1; i >= 0; i--) earliestFrom[i] = Math.min(earliestFrom[i + 1] as number, (byQn[i] as { admittedAt: number }).admittedAt);
  const firstAbove = (qn: number) => {
    let lo = 0;
    let hi = byQn.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byQn[mid] as { queueNumber: number }).queueNumber > qn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  for (const ticket of acknowledged.values()) {
    if (admittedByQn.has(ticket.queueNumber)) continue;
    const entry = logByQn.get(ticket.queueNumber);
    if (!entry || !entry.valid || entry.shopperId !== ticket.shopperId) continue; // not in the log: a lost ticket, counted below
    const index = firstAbove(ticket.queueNumber);
    const overtakenAt = earliestFrom[index] as number;
    if (overtakenAt < entry.expiresAtMs) {
      const by = byQn.slice(index).find((a) => a.admittedAt === overtakenAt);
      fifo.fail(
        `ticket ${ticket.queueNumber} (${ticket.shopperId}), valid until ${new Date(entry.expiresAtMs).toISOString()}, was passed over: ` +
          `${by?.queueNumber} admitted at ${new Date(overtakenAt).toISOString()}`,
      );
    }
  }

  // Cap: the active set never above the cap.
  const capCheck = new Check('cap', `Cap: never more than ${cap} shoppers in checkout at once`);
  const maxActiveSampled = evidence.activeSamples.reduce((max, active) => Math.max(max, active), truth.redis.active);
  const over = evidence.activeSamples.filter((active) => active > cap);
  if (over.length > 0) capCheck.fail(`${over.length} samples above the cap, up to ${maxActiveSampled} active`, over.length);
  if (truth.redis.active > cap) capCheck.fail(`${truth.redis.active} active at the end`);

  // One each: one ticket, one admission and one order per shopper.
  const oneEach = new Check('one-each', 'One each: at most one ticket, one admission and one paid order per shopper');
  for (const t of evidence.answered) {
    if (t.distinctTickets > 1) oneEach.fail(`${t.shopperId} was handed ${t.distinctTickets} different tickets`);
  }
  const counted = (ids: string[]) => {
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    return [...counts].filter(([, n]) => n > 1);
  };
  for (const [shopper, n] of counted(truth.admissions.map((a) => a.shopperId))) oneEach.fail(`${shopper} admitted ${n} times`);
  for (const [shopper, n] of counted(pg.orders.map((o) => o.shopperId))) oneEach.fail(`${shopper} has ${n} paid orders`);

  // No lost ticket: every acknowledged ticket is in the log and ends admitted, skipped or sold out.
  const lost = new Check('no-lost-ticket', 'No lost ticket: every ticket answered 201 is in the log and ends admitted, skipped or sold out');
  let stillWaiting = 0;
  for (const ticket of acknowledged.values()) {
    const entry = logByQn.get(ticket.queueNumber);
    if (!entry || !entry.valid || entry.shopperId !== ticket.shopperId) {
      lost.fail(`ticket ${ticket.queueNumber} of ${ticket.shopperId} was answered but the log holds ${entry ? (entry.valid ? entry.shopperId : 'an unreadable message') : 'nothing'} there`);
      continue;
    }
    if (admittedByQn.get(ticket.queueNumber)?.shopperId === ticket.shopperId) continue;
    if (ticket.queueNumber > truth.redis.served) {
      stillWaiting++;
      continue;
    }
    if (entry.expiresAtMs <= truth.readAt) continue; // expired: skipped (whether that was fair is the FIFO check's business)
    const record = truth.records.get(ticket.shopperId);
    const fate = record && record.queueNumber === ticket.queueNumber ? record.state : undefined;
    if (fate !== 'skipped' && fate !== 'soldout') {
      lost.fail(`ticket ${ticket.queueNumber} of ${ticket.shopperId} is behind the processed mark (${truth.redis.served}) but was neither admitted, skipped nor sold out (record: ${fate ?? 'none'})`);
    }
  }

  // Units of ended checkouts go back: nothing held past its deadline, the counts add up.
  const units = new Check('units-returned', 'Units of expired or cancelled checkouts go back: no checkout outlives its deadline, every unit accounted for');
  let staleCheckouts = 0;
  for (const { shopperId, deadline } of truth.activeDeadlines) {
    if (deadline < truth.readAt - grace) {
      staleCheckouts++;
      units.fail(`${shopperId} still holds a unit ${Math.round((truth.readAt - deadline) / 1000)} s after the deadline`);
    }
  }
  const r = truth.redis;
  const expectedAvailable = Math.max(0, r.stock - r.sold - r.active);
  if (r.available !== expectedAvailable) units.fail(`${r.available} units free for admission, but stock ${r.stock} − sold ${r.sold} − held ${r.active} = ${expectedAvailable}`);
  if (truth.admissions.length !== r.admitted) units.fail(`the audit trail holds ${truth.admissions.length} admissions, the counters ${r.admitted}`);
  const ended = r.purchased + r.cancelled + r.expired + r.active;
  if (r.admitted !== ended) {
    units.fail(`${r.admitted} admitted but ${r.purchased} paid + ${r.cancelled} cancelled + ${r.expired} expired + ${r.active} still active = ${ended}`);
  }

  // The API agrees: a status only moves forward and matches the truth.
  const api = new Check('api-agrees', 'The API agrees with the truth: statuses only move forward, grants and purchases are real');
  for (const t of evidence.answered) {
    let rank = -1;
    let terminal: string | undefined;
    for (const status of t.statuses) {
      const r = statusRank[status] ?? -1;
      if (r < rank || (terminal !== undefined && status !== terminal)) {
        api.fail(`${t.shopperId} saw ${t.statuses.join(' → ')}`);
        break;
      }
      rank = r;
      if (r === 2) terminal = status;
    }
    if (t.statuses.includes('ACCESS_GRANTED') && !admittedShoppers.has(t.shopperId)) api.fail(`${t.shopperId} was told ACCESS_GRANTED but was never admitted`);
    if (t.statuses.includes('PURCHASED') && !orderByShopper.has(t.shopperId)) api.fail(`${t.shopperId} was told PURCHASED but has no order`);
  }
  for (const answer of evidence.apiAnswers ?? []) {
    const admitted = admittedShoppers.has(answer.shopperId);
    const admittedLike = ['ACCESS_GRANTED', 'PURCHASED'].includes(answer.status);
    const waitingLike = ['ACCESS_DENIED', 'ITEM_SOLD_OUT'].includes(answer.status);
    if ((admittedLike && !admitted) || (waitingLike && admitted) || (answer.status === 'PURCHASED') !== orderByShopper.has(answer.shopperId)) {
      api.fail(`after the run the API told ${answer.shopperId} ${answer.status}, but they were ${admitted ? 'admitted' : 'not admitted'}${orderByShopper.has(answer.shopperId) ? ' and paid' : ''}`);
    }
  }

  const checks = [oversell, fifo, capCheck, oneEach, lost, units, api].map((check) => check.result());
  return {
    ok: checks.every((check) => check.violations === 0),
    checks,
    figures: {
      fifoViolations: fifo.violations,
      oversoldUnits,
      lostTickets: lost.violations,
      stillWaiting,
      maxActiveSampled,
      staleCheckouts,
      ticketsChecked: acknowledged.size,
    },
  };
}
