import { checkApiAgrees } from './invariants/api-agrees.js';
import { checkCap } from './invariants/cap.js';
import { checkNoLostTicket } from './invariants/no-lost-ticket.js';
import { checkNoOversell } from './invariants/no-oversell.js';
import { checkOneEach } from './invariants/one-each.js';
import { indexSale } from './invariants/sale.js';
import { checkStrictFifo } from './invariants/strict-fifo.js';
import { checkUnitsReturned } from './invariants/units-returned.js';
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
  /**
   * The deal's checkout window: a shopper whose checkout expired unpaid may take a new ticket and
   * be admitted again (DESIGN: the spent ticket puts them at the back of the line), never while
   * the earlier checkout is open. Unknown: any second admission counts as a violation.
   */
  windowMs?: number;
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

/**
 * Checks every invariant of DESIGN.md against what was read back after a run, one module each
 * under invariants/. Pure: the same evidence always gives the same report, and hand-made evidence
 * can prove each check bites (test/invariants.test.ts).
 */
export function checkInvariants(evidence: Evidence): InvariantReport {
  const sale = indexSale(evidence);
  const oversell = checkNoOversell(sale);
  const fifo = checkStrictFifo(sale);
  const cap = checkCap(sale);
  const oneEach = checkOneEach(sale);
  const lost = checkNoLostTicket(sale);
  const units = checkUnitsReturned(sale);
  const api = checkApiAgrees(sale);
  const checks = [oversell.check, fifo, cap.check, oneEach, lost.check, units.check, api];
  return {
    ok: checks.every((check) => check.violations === 0),
    checks,
    figures: {
      fifoViolations: fifo.violations,
      oversoldUnits: oversell.oversoldUnits,
      lostTickets: lost.check.violations,
      stillWaiting: lost.stillWaiting,
      maxActiveSampled: cap.maxActiveSampled,
      staleCheckouts: units.staleCheckouts,
      ticketsChecked: sale.acknowledged.size,
    },
  };
}
