import type { DealSnapshot } from '@quickdeal/core';

export interface QueuePosition {
  /** Tickets ahead of this one, plus one: 1 is next in line. */
  position: number;
  /** Units not yet sold. */
  unitsLeft: number;
  etaSeconds: number;
  pollAfterMs: number;
}

const minPollMs = 1_000;
const maxPollMs = 30_000;

/**
 * Where a waiting ticket stands, from memory. The estimate uses the recent admission rate, or,
 * before any admission, the rate the cap and checkout window allow; never faster than the deal's
 * inflow rate (maxAdmissionsPerMinute).
 */
export function queuePosition(queueNumber: number, deal: DealSnapshot, admissionsPerSecond: number): QueuePosition {
  const position = Math.max(1, queueNumber - deal.served);
  const unitsLeft = Math.max(0, deal.stock - deal.sold);
  const inflowPerSecond = deal.maxAdmissionsPerMinute ? deal.maxAdmissionsPerMinute / 60 : Infinity;
  // The inflow rate lets a burst of a tenth of a second's worth in together (see admitInOrder in core's lua.ts).
  const inflowBurst = deal.maxAdmissionsPerMinute ? Math.floor(deal.maxAdmissionsPerMinute / 600) : Infinity;
  // Within reach of a free slot, a free unit and the inflow rate's burst: admission is a moment away, so poll soon.
  const openings = deal.paused ? 0 : Math.min(deal.cap - deal.active, deal.available, inflowBurst);
  if (position <= openings) return { position, unitsLeft, etaSeconds: 1, pollAfterMs: minPollMs };
  const fallbackRate = deal.cap / Math.max(1, deal.windowMs / 1000);
  const rate = Math.min(admissionsPerSecond > 0 ? admissionsPerSecond : fallbackRate, inflowPerSecond);
  const etaSeconds = Math.ceil(position / rate);
  return { position, unitsLeft, etaSeconds, pollAfterMs: pollAfterMs(position, etaSeconds) };
}

/** Polls come less often the further back a shopper is: about five polls over the wait, 1–30 s apart. */
export function pollAfterMs(position: number, etaSeconds: number): number {
  const byEta = (etaSeconds * 1000) / 5;
  const byPosition = minPollMs + Math.sqrt(position - 1) * 20;
  return Math.round(Math.min(maxPollMs, Math.max(minPollMs, byEta, byPosition)));
}
