import type { QueueMode } from './deal-spec.js';
import type { TicketState } from './ticket-state.js';

/** What reserving a shopper's place says, before the ticket goes to Kafka. */
export type ReserveResult =
  | { outcome: 'reserved' }
  | { outcome: 'existing'; token: string; queueNumber: number }
  | { outcome: 'pending' | 'purchased' | 'sold_out' | 'unknown_deal' | 'drawing' }
  /** Pre-queued, not yet placed by the draw: the pre-queue ticket again. */
  | { outcome: 'prequeued'; token: string }
  | { outcome: 'not_open'; opensAt: number }
  | { outcome: 'closed'; closesAt: number }
  /** Over the shopper's limit on asking: nothing else changed. */
  | { outcome: 'rate_limited'; retryInMs: number };

/** How many ticket requests one shopper may make per deal in a window (0: no limit). */
export interface AskLimit {
  asks: number;
  windowMs: number;
}

/** A ticket as read from Kafka, ready for admission. `valid` is false when the message did not parse. */
export interface QueuedTicket {
  queueNumber: number;
  shopperId: string;
  jti: string;
  expiresAtMs: number;
  valid: boolean;
}

export type BlockReason = 'pending' | 'paused' | 'stock' | 'cap' | 'rate' | 'unknown_deal';

export interface AdmitResult {
  processed: number;
  blockedBy: BlockReason | undefined;
  admitted: number;
  invalid: number;
  expired: number;
  soldOut: number;
  duplicate: number;
  /** Checkouts whose deadline had passed, ended before deciding. */
  checkoutsExpired: number;
  /** The last queue number processed, as Redis holds it after this batch. */
  served: number;
  /**
   * Set when Redis holds fewer admissions than the log has been read for (a failover lost the
   * latest): read the log again from this queue number's message on (offset = queue number).
   */
  rewindTo?: number;
  /** When blocked by the inflow rate: how long until the next admission may go in (ms). */
  retryInMs: number;
}

export type ClaimResult =
  /** `fence` must be shown to abort or complete this claim. */
  | { outcome: 'claimed'; deadline: number; fence: string }
  | { outcome: 'in_progress'; payingUntil: number }
  /** A payment held the checkout and its lease lapsed: settle it (see the payment service's settlement), then claim again. */
  | { outcome: 'lapsed'; fence: string }
  | { outcome: 'purchased'; orderId: string }
  | { outcome: 'expired'; checkoutsExpired: number }
  | { outcome: 'not_admitted' };

/** What completing a payment in Redis did: `fenced` when the claim was taken over (the order in Postgres settles it). */
export type CompleteResult = 'completed' | 'already_purchased' | 'fenced';

export type ReleaseResult = 'released' | 'paying' | 'purchased' | 'expired' | 'not_admitted';

/** A deal's settings and counts, as one atomic read of Redis. */
export interface DealSnapshot {
  dealId: string;
  exists: boolean;
  stock: number;
  cap: number;
  windowMs: number;
  opensAt: number;
  closesAt: number | null;
  paused: boolean;
  ticketTtlMs: number;
  queueMode: QueueMode;
  /** Shoppers let into checkout per minute at most; null: no inflow rate. */
  maxAdmissionsPerMinute: number | null;
  /** How long before opensAt the pre-queue opens; 0: none. */
  prequeueMs: number;
  /** The pre-queue's draw: the seed's commitment, its state, the seed once the draw is done. */
  draw: DrawState | undefined;
  /** Shoppers in the pre-queue. */
  prequeued: number;
  /** The proof of work a ticket request must carry; null: none. */
  proofOfWork: { difficulty: number; maxDifficulty: number } | null;
  productName: string;
  price: number;
  currency: string;
  available: number;
  active: number;
  served: number;
  sold: number;
  issued: number;
  lastQueueNumber: number;
  admitted: number;
  skipped: number;
  soldOutTickets: number;
  expired: number;
  cancelled: number;
  purchased: number;
}

/** A shopper's ticket record for one deal. */
export interface ShopperTicket {
  state: TicketState;
  jti: string;
  queueNumber: number;
  token: string | undefined;
  deadline: number | undefined;
  orderId: string | undefined;
}

/** One admission in the audit trail. */
export interface Admission {
  queueNumber: number;
  shopperId: string;
  admittedAt: number;
}

export interface DrawState {
  /** SHA-256 of the seed (hex), published before the open. */
  commitment: string;
  state: 'scheduled' | 'drawing' | 'done';
  /** The seed (hex), revealed once every drawn shopper is in line. */
  seed: string | undefined;
}

export type PrequeueResult =
  | { outcome: 'prequeued' }
  | { outcome: 'existing'; token: string }
  | { outcome: 'purchased' | 'unknown_deal' }
  | { outcome: 'not_prequeue'; opensAt: number }
  | { outcome: 'rate_limited'; retryInMs: number };

export type DrawClaim =
  | { outcome: 'claimed'; fence: string; placedBatches: number; seed: string }
  | { outcome: 'busy' | 'done' | 'none' }
  | { outcome: 'not_yet'; opensAt: number };
