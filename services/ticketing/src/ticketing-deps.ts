import type { Clock, DealCache, DealStore, Logger, TicketKeyring, TicketSigner, TicketVerifier, ShopperIdentity } from '@quickdeal/core';
import type { Door } from './door.js';
import type { PrequeueTickets } from './prequeue-ticket.js';
import type { ProofOfWork } from './proof-of-work.js';
import type { TicketingMetrics } from './metrics.js';
import type { RateLimits } from './rate-limits.js';
import type { TicketIssuer } from './ticket-issuer.js';

/** What ticketing's routes work with; createTicketing (ticketing.ts) wires them. */
export interface TicketingDeps {
  store: DealStore;
  cache: DealCache;
  /** Reserves, queues, signs and records tickets in batches. */
  issuer: TicketIssuer;
  /** Signs the tickets the pre-queue draw placed, on their shoppers' first ask. */
  signer: TicketSigner;
  prequeueTickets: PrequeueTickets;
  proofOfWork: ProofOfWork;
  verifier: TicketVerifier;
  keyring: TicketKeyring;
  limits: RateLimits;
  metrics: TicketingMetrics;
  logger: Logger;
  /** Who the shopper is: the shop's session token, or X-User-Id from a trusted gateway. */
  identity: ShopperIdentity;
  topicPrefix: string;
  clock?: Clock;
  /** Use X-Forwarded-For as the client address (only behind a trusted ingress or gateway). */
  trustProxy?: boolean;
  readiness: () => Promise<Record<string, boolean>>;
  isShuttingDown?: () => boolean;
  /** How long a shopper's concurrent second request waits for the first one's ticket. */
  pendingWaitMs?: number;
  /** Overload protection: ticket requests beyond its limit are asked to come back later. */
  door?: Door;
  /** Local development only: the pages let a person type a shopper id (header mode). */
  pagesShopperIdInput?: boolean;
}
