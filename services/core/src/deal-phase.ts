export type DealPhase = 'Scheduled' | 'Open' | 'Paused' | 'SoldOut' | 'Closed';

/** Where a deal stands, from its settings and what is sold, at `now`. */
export function dealPhase(
  deal: { stock: number; opensAt: number; closesAt: number | null; paused: boolean },
  sold: number,
  now: number,
): DealPhase {
  if (deal.closesAt !== null && now >= deal.closesAt) return 'Closed';
  if (sold >= deal.stock) return 'SoldOut';
  if (now < deal.opensAt) return 'Scheduled';
  if (deal.paused) return 'Paused';
  return 'Open';
}
