/**
 * What a shopper's ticket record in Redis says about them: its `state` field, written only by the
 * Lua scripts (redis/lua.ts). This is the one place TypeScript reads it.
 *
 * prequeued (in a deal's pre-queue, until the draw places it) or pending (reserved while Kafka acknowledges) → waiting (in line) → admitted (checkout open) ⇄
 * paying (a payment holds it) → purchased; or expired (the window passed, or the shopper cancelled),
 * skipped (the ticket expired or was invalid at its turn), soldout (its turn came after the last unit).
 */
export type TicketState = 'prequeued' | 'pending' | 'waiting' | 'admitted' | 'paying' | 'purchased' | 'expired' | 'skipped' | 'soldout';

/** Where a ticket stands at a moment: the questions the shopper's views ask of its state. */
export type TicketStanding = 'waiting' | 'checkout_open' | 'checkout_expired' | 'purchased' | 'sold_out' | 'skipped';

export function ticketStanding(record: { state: TicketState; deadline: number | undefined }, now: number): TicketStanding {
  switch (record.state) {
    case 'prequeued':
    case 'pending':
    case 'waiting':
      return 'waiting';
    case 'admitted':
    case 'paying':
      return (record.deadline ?? 0) > now ? 'checkout_open' : 'checkout_expired';
    case 'expired':
      return 'checkout_expired';
    case 'purchased':
      return 'purchased';
    case 'soldout':
      return 'sold_out';
    case 'skipped':
      return 'skipped';
  }
}

/** The ticket is reserved and its Kafka write not yet acknowledged. */
export const isPending = (record: { state: TicketState }) => record.state === 'pending';

/** A payment holds the open checkout (the sweeper leaves its unit alone until it settles). */
export const isPaying = (record: { state: TicketState }) => record.state === 'paying';
