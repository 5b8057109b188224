import type { InvariantCheck } from '../invariants.js';
import { Check, type Sale } from './sale.js';

/**
 * No lost ticket: every acknowledged ticket is in the log and ends admitted, skipped or sold out;
 * one still in line when the run stopped counts as waiting, not lost.
 */
export function checkNoLostTicket({ truth, acknowledged, admittedByQn, logByQn }: Sale): { check: InvariantCheck; stillWaiting: number } {
  const check = new Check(
    'no-lost-ticket',
    'No lost ticket: every ticket answered 201 is in the log and ends admitted, skipped or sold out',
  );
  let stillWaiting = 0;
  for (const ticket of acknowledged.values()) {
    const entry = logByQn.get(ticket.queueNumber);
    if (!entry || !entry.valid || entry.shopperId !== ticket.shopperId) {
      check.fail(
        `ticket ${ticket.queueNumber} of ${ticket.shopperId} was answered but the log holds ${entry ? (entry.valid ? entry.shopperId : 'an unreadable message') : 'nothing'} there`,
      );
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
      check.fail(
        `ticket ${ticket.queueNumber} of ${ticket.shopperId} is behind the processed mark (${truth.redis.served}) but was neither admitted, skipped nor sold out (record: ${fate ?? 'none'})`,
      );
    }
  }
  return { check: check.result(), stillWaiting };
}
