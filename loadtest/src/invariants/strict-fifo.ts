import type { InvariantCheck } from '../invariants.js';
import type { Truth } from '../truth.js';
import { Check, type Sale } from './sale.js';

/** Strict FIFO: admissions in queue order, and no valid, unexpired ticket passed over. */
export function checkStrictFifo({ truth, acknowledged, admittedByQn, logByQn }: Sale): InvariantCheck {
  const check = new Check('strict-fifo', 'Strict FIFO: nobody admitted before a valid, unexpired ticket with a lower queue number');
  for (let i = 1; i < truth.admissions.length; i++) {
    const [before, after] = [truth.admissions[i - 1], truth.admissions[i]] as const;
    if (before && after && after.queueNumber <= before.queueNumber) {
      check.fail(`queue number ${after.queueNumber} admitted after ${before.queueNumber}`);
    }
  }
  const overtaking = earliestAdmissionAbove(truth.admissions);
  for (const ticket of acknowledged.values()) {
    if (admittedByQn.has(ticket.queueNumber)) continue;
    const entry = logByQn.get(ticket.queueNumber);
    if (!entry || !entry.valid || entry.shopperId !== ticket.shopperId) continue; // not in the log: a lost ticket, the no-lost-ticket check's
    const overtakenAt = overtaking.earliestAbove(ticket.queueNumber);
    if (overtakenAt < entry.expiresAtMs) {
      check.fail(
        `ticket ${ticket.queueNumber} (${ticket.shopperId}), valid until ${new Date(entry.expiresAtMs).toISOString()}, was passed over: ` +
          `${overtaking.admittedAt(ticket.queueNumber, overtakenAt)?.queueNumber} admitted at ${new Date(overtakenAt).toISOString()}`,
      );
    }
  }
  return check.result();
}

type Admission = Truth['admissions'][number];

/**
 * For a queue number, the earliest admission time among those of higher queue numbers (Infinity
 * when none): a binary search over the queue-ordered trail and the earliest time from each position on.
 */
function earliestAdmissionAbove(admissions: Admission[]) {
  const byQn = [...admissions].sort((a, b) => a.queueNumber - b.queueNumber);
  const earliestFrom = new Float64Array(byQn.length + 1).fill(Infinity);
  for (let i = byQn.length - 1; i >= 0; i--) earliestFrom[i] = Math.min(earliestFrom[i + 1] as number, (byQn[i] as Admission).admittedAt);
  const firstAbove = (qn: number) => {
    let lo = 0;
    let hi = byQn.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((byQn[mid] as Admission).queueNumber > qn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return {
    earliestAbove: (queueNumber: number) => earliestFrom[firstAbove(queueNumber)] as number,
    /** The admission above `queueNumber` made at `at`, to name in a violation. */
    admittedAt: (queueNumber: number, at: number) => byQn.slice(firstAbove(queueNumber)).find((a) => a.admittedAt === at),
  };
}
