/**
 * Redis key names. Every key of a deal carries the deal id as a hash tag (`{dealId}`), so each
 * script touches one slot and the layout works unchanged on Redis Cluster.
 */
export function dealKeys(dealId: string) {
  const prefix = `qd:{${dealId}}:`;
  return {
    prefix,
    /** hash: stock, cap, windowMs, opensAt, closesAt, paused, ticketTtlMs, price, currency, product, queueMode, inflowPerMin, prequeueMs */
    cfg: `${prefix}cfg`,
    /** units free for admission: stock − sold − held, kept by every script */
    avail: `${prefix}avail`,
    /** Redis's copy of Postgres's sold count (Postgres is the truth) */
    sold: `${prefix}sold`,
    /** sorted set: shopper → checkout deadline (ms) */
    active: `${prefix}active`,
    /** the last processed queue number */
    served: `${prefix}served`,
    /** hash of counters: issued, lastQn, admitted, skipped, soldout, expired, cancelled, purchased */
    stats: `${prefix}stats`,
    /** list of `qn:shopper:admittedAtMs`, in admission order: the audit trail of FIFO */
    admissions: `${prefix}admissions`,
    /** the inflow rate's theoretical arrival time (ms, GCRA), kept by the admission scripts */
    inflow: `${prefix}inflow`,
    /** hash: shopper → jti of their pre-queue ticket, the shoppers the draw places at opensAt */
    prequeue: `${prefix}prequeue`,
    /** hash: seed, commitment (sha256 of the seed), state (scheduled, drawing, done), fence, placed (batches), total */
    draw: `${prefix}draw`,
    /** the draw's lock: the id of the process drawing, with a lease */
    drawLock: `${prefix}draw:lock`,
    /** a proof-of-work challenge already used (single use), kept until it expires */
    spentChallenge: (signature: string) => `${prefix}pow:${signature}`,
    /** pub/sub channel: freed, changed, config, soldout */
    events: `${prefix}events`,
    /** sorted set: shopper → payingUntil (ms), the checkouts a payment holds; a lapsed one is settled by the sweeper */
    paying: `${prefix}paying`,
    /** the settings last applied, as JSON: an apply that would change nothing is skipped */
    applied: `${prefix}applied`,
    /** hash per shopper: jti, qn, token, state, exp, deadline, payingUntil, fence, orderId */
    ticket: (shopperId: string) => `${prefix}ticket:${shopperId}`,
    /** a shopper's ticket requests in the current window of the per-shopper limit (expires with it) */
    asks: (shopperId: string) => `${prefix}asks:${shopperId}`,
  };
}

export type DealKeys = ReturnType<typeof dealKeys>;

/** The fixed keys every deal script receives first, in this order (the Lua prelude relies on it). */
export function fixedKeys(keys: DealKeys): string[] {
  return [keys.cfg, keys.avail, keys.sold, keys.active, keys.served, keys.stats, keys.admissions];
}

/** The set of known deal ids (not per deal, so no hash tag). */
export const dealsIndexKey = 'qd:deals';

/** Pattern matching every deal's event channel. */
export const eventsPattern = 'qd:{*}:events';

export function dealForEventsChannel(channel: string): string | undefined {
  const match = /^qd:\{(.+)\}:events$/.exec(channel);
  return match?.[1];
}
