import type { Evidence, InvariantCheck } from '../invariants.js';
import type { LogEntry, Truth } from '../truth.js';

export interface Acknowledged {
  queueNumber: number;
  shopperId: string;
}

/** The evidence of a run, indexed the ways the checks look it up. */
export interface Sale {
  evidence: Evidence;
  truth: Truth;
  logByQn: Map<number, LogEntry>;
  admittedByQn: Map<number, Truth['admissions'][number]>;
  admittedShoppers: Set<string>;
  orderByShopper: Map<string, Truth['postgres']['orders'][number]>;
  /**
   * Acknowledged tickets: every ticket answered to the generator, plus any in the log whose Redis
   * record shows it was answered (a 201 the generator missed, e.g. after its own timeout) at that
   * very queue number.
   */
  acknowledged: Map<number, Acknowledged>;
}

export function indexSale(evidence: Evidence): Sale {
  const { truth } = evidence;
  const acknowledged = new Map<number, Acknowledged>();
  for (const t of evidence.answered) acknowledged.set(t.queueNumber, { queueNumber: t.queueNumber, shopperId: t.shopperId });
  for (const entry of truth.log) {
    const record = entry.valid ? truth.records.get(entry.shopperId) : undefined;
    // only the copy the record points at: another copy of the same ticket (a produce written twice,
    // a draw batch written again after a takeover) is a stray that admission skips, never acknowledged
    const own = record?.queueNumber === entry.queueNumber;
    if (record && own && record.jti === entry.jti && record.state !== 'pending' && !acknowledged.has(entry.queueNumber)) {
      acknowledged.set(entry.queueNumber, { queueNumber: entry.queueNumber, shopperId: entry.shopperId });
    }
  }
  return {
    evidence,
    truth,
    logByQn: new Map(truth.log.map((entry) => [entry.queueNumber, entry])),
    admittedByQn: new Map(truth.admissions.map((a) => [a.queueNumber, a])),
    admittedShoppers: new Set(truth.admissions.map((a) => a.shopperId)),
    orderByShopper: new Map(truth.postgres.orders.map((o) => [o.shopperId, o])),
    acknowledged,
  };
}

const maxExamples = 10;

/** One invariant's tally: how many violations, and the first few, each naming what broke. */
export class Check {
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
