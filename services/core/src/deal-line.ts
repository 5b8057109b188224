import type { DealSnapshot } from './deal-types.js';

/** Tickets in a deal's line that admission has not processed yet (neither admitted nor skipped). */
export function ticketsWaiting(snapshot: Pick<DealSnapshot, 'lastQueueNumber' | 'served'>): number {
  return Math.max(0, snapshot.lastQueueNumber - snapshot.served);
}
