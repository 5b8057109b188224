/** The phases after which a deal takes no new shoppers. */
export const finishedPhases: ReadonlySet<string> = new Set(['SoldOut', 'Closed']);

/**
 * When to look at a deal's status again (ms from now), or undefined to let it rest until its spec
 * changes. A finished deal rests only once its line and checkouts have settled: at sell-out the
 * shoppers still in line are told "sold out" by admission a moment later, and a status written
 * before that would keep their count for good.
 */
export function nextStatusRefreshMs(
  counts: { phase: string; waiting: number; active: number },
  untilTransitionMs: number | undefined,
  resyncMs: number,
): number | undefined {
  if (finishedPhases.has(counts.phase) && counts.waiting === 0 && counts.active === 0) return undefined;
  return Math.min(resyncMs, untilTransitionMs ?? Infinity);
}
